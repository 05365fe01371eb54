"""SAM decoded in the browser gives the server's mask (parity), in Chromium, with a random-weight MobileSAM
checkpoint installed for real: install -> embedding job -> a click through the server endpoint answers a mask of
the image's size, and the editor's Web Worker (onnxruntime-web, wasm, int8 decoder, fp16 embedding) decodes the same
click to the same masks; the Assist click tool shows SAM's answers (Tab steps through them) and keeps one as an
assisted polygon recorded as a suggestion. When the browser cannot decode, the server answers.

Why a tolerance: both sides decode the same fp16 embedding, but the browser runs the int8 decoder (weights quantized
to 8 bits, activations on the fly) and the server the fp32 one; the install's own parity check measures
that quantization moves about 0.6% of the mask pixels across the threshold (decoder_int8_mask_agreement 0.994 with
random weights), all along the masks' edges. So at most MASK_DISAGREEMENT_MAX of the pixels may differ.

Needs the built bundle: (cd frontend && npm install && npm run build)."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.management import call_command

from annotation.geometry import iou, polygons_from_json, rasterize
from annotation.models import Annotation, AnnotationSource
from annotation.services.images import assignments_create
from assist.engines.base import engine_get
from assist.engines.sam import sam_manifest
from assist.models import Suggestion
from assist.sam.masks import min_region_px_for, small_regions_remove
from assist.sam.runtime import SamDecoder
from assist.services.pixels import image_pixels
from assist.services.sam import EMBEDDINGS_JOB_KIND
from assist.tests.factories import spotted_image_create
from conftest import ARTIFACTS
from defectlab.jobs.services import job_create, job_run
from tests.test_browser_editor import BUNDLE, editor_open, screen, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Random weights answer speckled masks whatever the image (hundreds of holes): small images keep them within the
# annotation API's geometry budget, so the kept answer can be saved.
WIDTH, HEIGHT = 80, 60
CLICK = (40, 30)  # on the spot
MASK_DISAGREEMENT_MAX = 0.02  # share of pixels: int8 vs fp32 decoder (see above)
DECODE_TIMEOUT_MS = 60_000  # the first decode loads the wasm and the decoder: seconds on 2 shared cores


@pytest.fixture(autouse=True)
def _bundle_built():
    if not BUNDLE.exists():
        pytest.fail(f"The editor bundle {BUNDLE} is missing: build it with (cd frontend && npm run build)")


@pytest.fixture
def installed_sam(settings, tmp_path):
    """A random-weight MobileSAM installed through `manage.py sam_install`, in this test's own folders."""
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    settings.DEFECTLAB_SAM_DIR = tmp_path / "sam"
    settings.DEFECTLAB_SAM_EMBEDDING_CACHE_DIR = tmp_path / "embeddings"
    torch.set_num_threads(2)
    torch.manual_seed(0)
    checkpoint = tmp_path / "mobile_sam_random.pt"
    torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), checkpoint)
    call_command("sam_install", str(checkpoint), "--model-type", "vit_t", stdout=io.StringIO(), stderr=io.StringIO())
    manifest = sam_manifest()
    assert manifest is not None
    return manifest


def browser_masks(page, image, click) -> list[dict]:
    """The editor's own SAM worker decodes `click`: each candidate's mask token, score, mask and the mask after the
    clean-up its outline is traced from (0/1 lists)."""
    return page.evaluate(
        """async ([imageId, shape, click]) => {
            const decoded = await window.defectlab.editor.assist.sam.decode(
                imageId, { positive_clicks: [click] }, shape, "area", true);
            return decoded.candidates.map((candidate, index) => (
                { token: candidate.token, score: candidate.score, mask: Array.from(decoded.masks[index]),
                  cleaned: Array.from(decoded.cleanedMasks[index]) }));
        }""",
        [image.pk, [image.height, image.width], list(click)],
    )


def test_sam_in_the_browser_decodes_the_servers_masks_and_its_answer_is_kept_as_an_assisted_polygon(
    team, api, installed_sam, logged_in_page, live_server, browser
):
    # given: an image, assigned; the embeddings job (started on ingest in production) embeds it
    image = spotted_image_create(project=team.project, spots=[(40, 30, 8)], width=WIDTH, height=HEIGHT)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    job = job_run(
        job_id=job_create(
            kind=EMBEDDINGS_JOB_KIND, project=team.project, created_by=None, params={"image_ids": [image.pk]}
        ).pk
    )
    assert (job.status, job.result["embedded"]) == ("succeeded", 1), job.error
    # when: the click through the server endpoint
    prompt = {"defect_class_id": team.defect_class.pk, "positive_clicks": [list(CLICK)]}
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/assist/", {"prompt": prompt}, format="json")
    # then: SAM answers a mask of the image's size
    assert response.status_code == 200, response.json()
    server_answer = response.json()
    assert server_answer["engine"] == "sam"
    assert server_answer["geometry"] is not None, "random weights found nothing at the click: pick another"
    size = {"width": image.width, "height": image.height}
    server_mask = rasterize(polygons_from_json(server_answer["geometry"], **size), **size)
    assert server_mask.shape == (image.height, image.width)
    # and the server's own masks, every token, as the endpoint decoded them (fp32 decoder, cached fp16 embedding)
    embedded = engine_get("sam").embedding(image_pixels(image), image_sha256=image.sha256)
    decoded = SamDecoder(installed_sam.decoder).decode(embedded, positive_clicks=(CLICK,))
    server_by_token = {0: decoded.single_mask, **{token: decoded.masks[token - 1] for token in (1, 2, 3)}}

    # when: the editor opens the image: SAM is decoded in the browser, cross-origin isolated (2 wasm threads)
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    page.wait_for_function("document.getElementById('assist-status').textContent === 'Assist: sam (in the browser)'")
    assert page.evaluate("self.crossOriginIsolated") is True
    assert page.evaluate("window.defectlab.editor.assist.sam.ready", []) == 2  # threads
    # then: the worker's masks are the server's, token by token, up to the int8 decoder's edge pixels, before and
    # after the clean-up of specks and pinholes that both apply before tracing (assist/sam/masks.py, masks.ts)
    candidates = browser_masks(page, image, CLICK)
    assert [candidate["token"] for candidate in candidates] == [1 + decoded.best_index] + sorted(
        {1, 2, 3} - {1 + decoded.best_index}, key=lambda token: -float(decoded.scores[token - 1])
    )
    min_region_px = min_region_px_for(box=None, region_shape=(HEIGHT, WIDTH))
    for candidate in candidates:
        expected = server_by_token[candidate["token"]]
        expected_cleaned = small_regions_remove(expected, min_region_px=min_region_px, positive_clicks=(CLICK,))
        for name, server_mask_of_token in (("mask", expected), ("cleaned", expected_cleaned)):
            browser_mask = np.array(candidate[name], dtype=bool).reshape(image.height, image.width)
            disagreement = float((browser_mask != server_mask_of_token).mean())
            assert disagreement <= MASK_DISAGREEMENT_MAX, (candidate["token"], name, disagreement)
        assert 0 < expected.sum() < expected.size or disagreement == 0.0
    assert abs(candidates[0]["score"] - float(decoded.scores[decoded.best_index])) < 0.05

    # when: the inspector clicks with Assist click (C), steps through SAM's answers with Tab and back, keeps one
    page.keyboard.press("c")
    page.mouse.click(*screen(page, *CLICK))
    page.wait_for_function("document.getElementById('assist-status').textContent.includes('answer 1 of 3')")
    page.keyboard.press("Tab")
    page.wait_for_function("document.getElementById('assist-status').textContent.includes('answer 2 of 3')")
    page.keyboard.press("Shift+Tab")
    page.wait_for_function("document.getElementById('assist-status').textContent.includes('answer 1 of 3')")
    page.screenshot(path=str(ARTIFACTS / "editor-sam-browser.png"))
    status = page.text_content("#assist-status")
    assert status.startswith("Assist: sam (in the browser) · score ")
    page.keyboard.press("Enter")
    page.wait_for_selector(".defect-row")
    wait_saved(page)
    # then: an assisted polygon whose provenance names the recorded suggestion, SAM's best answer
    annotation = Annotation.objects.get(image=image)
    suggestion = Suggestion.objects.get(pk=annotation.provenance["suggestion_id"])
    assert (annotation.source, annotation.provenance["engine"], suggestion.engine) == (
        AnnotationSource.ASSISTED,
        "sam",
        "sam",
    )
    assert annotation.provenance["prompt"]["positive_clicks"] == [list(CLICK)]
    assert annotation.geometry == suggestion.geometry
    # the Tab steps were recorded as answers replacing each other: only the kept one is current
    assert Suggestion.objects.filter(image=image, engine="sam", is_superseded=False).count() == 2  # + the server's
    kept = rasterize(polygons_from_json(annotation.geometry, **size), **size)
    assert iou(kept, server_mask) >= 0.9

    # and under the enforced Content-Security-Policy (the other pages: test_browser_csp.py) the worker, its wasm
    # and its threads start, and nothing is refused
    enforcing = browser.new_context(viewport={"width": 1280, "height": 900})
    strict = enforcing.new_page()
    refused: list[str] = []
    strict.on(
        "console", lambda message: refused.extend([message.text] if "Content Security Policy" in message.text else [])
    )
    strict.on("pageerror", lambda error: refused.append(str(error)))
    strict.goto(f"{live_server.url}/login/")
    strict.fill("input[name=username]", "inspector")
    strict.fill("input[name=password]", "pass")
    strict.click("button[type=submit]")
    strict.wait_for_url(f"{live_server.url}/")
    strict.goto(f"{live_server.url}/images/{image.pk}/edit/")
    strict.wait_for_selector("#editor-root[data-state=ready]")
    strict.wait_for_selector("#assist-status:has-text('Assist: sam (in the browser)')")
    assert strict.evaluate("window.defectlab.editor.assist.sam.ready") == 2
    assert len(browser_masks(strict, image, CLICK)) == 3
    assert refused == []
    enforcing.close()


def test_when_the_browser_cannot_decode_the_server_answers_sam_clicks(team, installed_sam, logged_in_page, live_server):
    # given: SAM installed, but its int8 decoder file is gone (the worker cannot load it)
    image = spotted_image_create(project=team.project, spots=[(40, 30, 8)], width=WIDTH, height=HEIGHT)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    Path(installed_sam.decoder_int8).unlink()
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    # then: the status line says the server answers SAM's clicks, and why
    page.wait_for_function(
        "document.getElementById('assist-status').textContent.startsWith('Assist: sam (on the server: ')",
        timeout=DECODE_TIMEOUT_MS,
    )
    assert "could not be loaded in the browser" in page.text_content("#assist-status")
    # when
    page.keyboard.press("c")
    page.mouse.click(*screen(page, *CLICK))
    page.wait_for_function(
        "document.getElementById('assist-status').textContent.includes(' · score ')", timeout=DECODE_TIMEOUT_MS
    )
    # then: the server's SAM answered, and the editor says why the browser did not
    status = page.text_content("#assist-status")
    assert status.startswith("Assist: sam · score "), status
    assert "on the server" in page.evaluate("window.defectlab.editor.assist.browserProblem ? 'on the server' : ''")
    assert page.evaluate("window.defectlab.assistTimings.map((timing) => timing.where)") == ["server"]
