"""Pre-labels end to end: a senior starts a pre-label batch through the API, a real Celery worker process makes the
suggestions, the inspector keeps one unchanged, keeps and edits another and deletes the third in the editor
(Chromium), submits, and the project's assist statistics count them as such.

Needs the built bundle: (cd frontend && npm run build)."""

import pytest

from annotation.models import Annotation
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create
from tests.test_assist_prelabel_worker import prelabel_worker, wait_for_job  # noqa: F401 - the fixture
from tests.test_browser_editor import BUNDLE, editor_open, screen, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SPOTS = [(20, 20, 8), (70, 50, 10), (100, 20, 6)]  # (x, y, side) squares: three dark spots, three pre-labels


@pytest.fixture(autouse=True)
def _bundle_built():
    if not BUNDLE.exists():
        pytest.fail(f"The editor bundle {BUNDLE} is missing: build it with (cd frontend && npm run build)")


def test_prelabels_made_by_the_worker_kept_edited_and_deleted_in_the_editor_are_counted(
    prelabel_worker,  # noqa: F811 - the imported fixture
    team,
    api,
    logged_in_page,
    live_server,
):
    # given: an image assigned to the inspector, pre-labelled by a senior's batch on the worker
    from annotation.services.images import assignments_create

    image = spotted_image_create(project=team.project, spots=SPOTS, width=120, height=80, name="three.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    with prelabel_engine.registered():  # the web side checks the engine too; the worker imported it
        started = api(team.senior).post(
            f"/api/v1/projects/{team.project.pk}/prelabels/", {"image_ids": [image.pk]}, format="json"
        )
    assert started.status_code == 202, started.json()
    job = wait_for_job(started.json()["id"])
    assert job.status == "succeeded", job.error
    # when: the inspector keeps the first spot's as it is, keeps the second's and moves it, deletes the third's
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    page.wait_for_selector(".suggestion-row")
    assert page.locator(".suggestion-row").count() == 3
    page.mouse.click(*screen(page, 24, 24))
    page.wait_for_selector(".suggestion-row.selected")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.defect-row').length === 1")
    page.mouse.click(*screen(page, 75, 55))
    page.wait_for_selector(".suggestion-row.selected")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('.defect-row').length === 2")
    page.keyboard.press("Escape")  # nothing selected
    page.mouse.click(*screen(page, 75, 55))  # the kept defect, with the select tool
    page.wait_for_selector(".defect-row.selected")
    page.keyboard.press("ArrowRight")  # moved one pixel: an edit
    wait_saved(page)
    page.click(".suggestion-row .suggestion-delete")
    page.wait_for_selector(".suggestion-row", state="detached")
    wait_saved(page)
    assert api(team.inspector).post(f"/api/v1/images/{image.pk}/submit/", {}, format="json").status_code == 200
    # then: the statistics count one unchanged, one edited, one deleted, for the engine and the class
    assert Annotation.objects.filter(image=image, author=team.inspector).count() == 2
    statistics = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/assist/statistics/").json()
    (engine,) = statistics["engines"]
    assert (engine["engine"], engine["suggestions"], engine["unchanged"], engine["edited"], engine["deleted"]) == (
        "test-dark-spots",
        3,
        1,
        1,
        1,
    )
    assert engine["acceptance_rate"] == pytest.approx(2 / 3)
    assert 0.5 < engine["mean_iou"] < 1.0  # the moved one overlaps its suggestion, the unchanged one is 1.0
    assert statistics["time_per_image"]["with_assist"]["images"] == 1
