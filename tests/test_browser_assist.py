"""The editor's assist in Chromium, on a real magnetic-tile image: an assist box becomes an assisted polygon saved
with its provenance, and a pre-label suggestion is kept with Enter as the inspector's own annotation.

Needs the built bundle: (cd frontend && npm install && npm run build)."""

import numpy as np
import pytest

from annotation.geometry import iou, polygons_from_json, rasterize
from annotation.models import Annotation, AnnotationSource
from annotation.services.images import assignments_create
from assist.models import Suggestion, SuggestionDecision
from assist.services.prelabels import prelabels_start
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create
from conftest import ARTIFACTS
from datasets.ingest import read_mask, sha256_of
from datasets.services.imports import images_import
from datasets.sources import Source
from defectlab.jobs.services import job_run
from tests.factories import DefectClassFactory
from tests.test_browser_editor import BUNDLE, drag, editor_open, screen, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TILE = "blowhole/exp4_num_291052"  # one blowhole of 427 px, its box (248, 295)-(276, 323)
DRAGGED_BOX = ((243, 290), (281, 328))  # as a hand drags it: about 5 px of surface round the blowhole


@pytest.fixture(autouse=True)
def _bundle_built():
    if not BUNDLE.exists():
        pytest.fail(f"The editor bundle {BUNDLE} is missing: build it with (cd frontend && npm run build)")


@pytest.fixture
def blowhole(team, magnetic_tile):
    """The real tile in the project, assigned to the inspector, with a "blowhole" class first in the picker."""
    DefectClassFactory.create(project=team.project, name="blowhole", color="#3cb44b")
    data = (magnetic_tile / f"{TILE}.jpg").read_bytes()
    images_import(project=team.project, sources=[Source(filename="exp4_num_291052.jpg", read=lambda: data)])
    image = team.project.images.get(sha256=sha256_of(data))
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    truth = read_mask((magnetic_tile / f"{TILE}.png").read_bytes(), f"{TILE}.png").astype(bool)
    return image, truth


def test_an_assist_box_on_a_tile_becomes_an_assisted_polygon_saved_with_its_provenance(
    team, blowhole, logged_in_page, live_server
):
    # given
    image, truth = blowhole
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    status_is_classical = (
        "document.getElementById('assist-status').textContent === 'Assist: classical · SAM is not installed'"
    )
    page.wait_for_function(status_is_classical)
    # when: the assist box tool (A), one drag round the blowhole
    page.keyboard.press("a")
    (x0, y0), (x1, y1) = DRAGGED_BOX
    drag(page, [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
    page.wait_for_selector(".defect-row")
    wait_saved(page)
    # then: the editor says which engine answered
    page.screenshot(path=str(ARTIFACTS / "editor-assist-box.png"))
    assert page.text_content("#assist-status").startswith("Assist: classical · score ")
    # and the server holds an assisted polygon of few vertices, with the engine, prompt, score and suggestion
    annotation = Annotation.objects.get(image=image)
    suggestion = Suggestion.objects.get(image=image)
    assert (annotation.source, annotation.author, annotation.defect_class.name) == (
        AnnotationSource.ASSISTED,
        team.inspector,
        "blowhole",
    )
    assert annotation.provenance == {
        "engine": "classical",
        "prompt": {"box": [x0, y0, x1, y1], "positive_clicks": [], "negative_clicks": []},
        "score": suggestion.score,
        "suggestion_id": suggestion.pk,
    }
    assert annotation.geometry == suggestion.geometry
    assert annotation.vertex_count <= 40
    # and it outlines the blowhole better than the box that was dragged
    drawn = rasterize(polygons_from_json(annotation.geometry, width=image.width, height=image.height), **size(image))
    box = np.zeros(truth.shape, bool)
    box[y0 : y1 + 1, x0 : x1 + 1] = True
    assert iou(drawn, truth) > max(0.4, iou(box, truth))


def size(image) -> dict:
    return {"width": image.width, "height": image.height}


def test_a_prelabel_suggestion_is_shown_apart_and_kept_with_enter(team, logged_in_page, live_server):
    # given: a pre-label job found two dark spots (the test engine, run here; the live server is this process)
    image = spotted_image_create(project=team.project, spots=[(20, 20, 8), (70, 50, 10)], name="spots.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    with prelabel_engine.registered():
        job_run(job_id=prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]).pk)
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    page.wait_for_selector(".suggestion-row")
    assert page.locator(".suggestion-row").count() == 2
    assert page.locator(".defect-row").count() == 0  # a suggestion is not a defect until kept
    # when: click the larger spot with the select tool, Enter keeps it; the other is deleted from the list
    page.mouse.click(*screen(page, 74, 54))
    page.wait_for_selector(".suggestion-row.selected")
    page.screenshot(path=str(ARTIFACTS / "editor-prelabel-suggestion.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector(".defect-row")
    page.click(".suggestion-row .suggestion-delete")
    page.wait_for_selector(".suggestion-row", state="detached")
    wait_saved(page)
    # then
    annotation = Annotation.objects.get(image=image)
    kept = Suggestion.objects.get(pk=annotation.provenance["suggestion_id"])
    assert (annotation.source, annotation.author, annotation.geometry) == (
        AnnotationSource.MODEL,
        team.inspector,
        kept.geometry,
    )
    assert kept.geometry["polygons"][0]["exterior"][0] == [70, 50]
    assert set(SuggestionDecision.objects.values_list("decision", flat=True)) == {"accepted", "rejected"}
    # and after a reload the kept one is an ordinary defect, nothing waits
    page.reload()
    page.wait_for_selector("#editor-root[data-state=ready]")
    page.wait_for_selector(".defect-row")
    assert page.locator(".suggestion-row").count() == 0
