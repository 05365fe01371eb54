"""Label next and label-error review in Chromium: a senior opens the label-error queue, sees the final
annotations beside the model's prediction and sends one to QA's consensus review; on the label-next page
they assign the next new images in the ranking's order. QA's handler runs on a real worker. The scores are
made here, before the pages open, by the real services with a real Predictor (a tiny network exported to ONNX,
assist/tests/darkness_model.py).

Needs the built bundle: (cd frontend && npm install && npm run build)."""

from pathlib import Path

import pytest

from annotation.models import Assignment, DefectClass
from annotation.services.images import assignment_submit, assignments_create
from annotation.services.reviews import FinalDefect, annotations_finalize
from assist.models import LabelErrorScore, LabelErrorStatus
from assist.services.label_review import label_errors_score, label_next_score
from assist.tests.darkness_model import darkness_predictor
from assist.tests.factories import spotted_image_create, square
from conftest import ARTIFACTS
from qa.models import EdgeCase
from qa.tests.factories import annotate
from tests.test_events import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUILD = Path(__file__).resolve().parent.parent / "frontend" / "static" / "frontend" / "build"


@pytest.fixture(autouse=True)
def _bundle_built():
    if not (BUILD / "label-errors.js").exists():
        pytest.fail(f"The page bundle {BUILD} is missing: build it with (cd frontend && npm run build)")


@pytest.fixture
def predictor(tmp_path):
    return darkness_predictor(tmp_path)


def test_a_senior_opens_the_label_error_queue_and_sends_a_label_to_consensus_review(
    team, logged_in_page, live_server, predictor, celery_worker_process
):
    # given: the inspector's blowhole was drawn beside the dark spot, and QA made it final; another image is right
    blowhole = DefectClass.objects.create(project=team.project, name="blowhole", position=0)
    doubted = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="doubted.png")
    assignments_create(project=team.project, image_ids=[doubted.pk], annotator=team.inspector, assigned_by=None)
    work = annotate(team.inspector, doubted, square(x=60, y=50, side=10), defect_class=blowhole)
    assignment_submit(image=doubted, annotator=team.inspector)
    annotations_finalize(image=doubted, defects=[FinalDefect(source=work)], actor=team.senior)
    right = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="right.png", seed=1)
    defect = FinalDefect(defect_class_id=blowhole.pk, geometry_data=square(x=20, y=20, side=10))
    annotations_finalize(image=right, defects=[defect], actor=team.admin)
    label_errors_score(project=team.project, predictor=predictor, model_id=1)
    entry = LabelErrorScore.objects.get(image=doubted)
    page = logged_in_page("senior")
    # when: the senior opens the queue from the project page
    page.goto(f"{live_server.url}/projects/{team.project.pk}/")
    page.click("text=Label-error review")
    page.wait_for_selector("#label-error-cards[data-ready=true]", state="attached")
    # then: the doubted image comes first, drawn twice: its annotation, and the model's prediction
    cards = page.locator("article.label-error")
    assert cards.count() == 2
    first = cards.first
    assert first.get_attribute("data-label-error") == str(entry.pk)
    assert first.locator("h3").text_content() == "doubted.png · labelled by inspector"
    assert first.locator("canvas").count() == 2
    assert first.locator("figcaption").all_text_contents() == ["The final annotations", "The model's prediction"]
    assert page.locator("table.label-errors tbody tr").first.locator("td").nth(5).text_content() == "inspector"
    # when: the senior sends it to consensus review with a note
    first.locator("textarea").fill("The blowhole is at the top left, not here.")
    first.locator("button:has-text('Send to consensus review')").click()
    page.wait_for_selector("article.label-error.decided")
    page.screenshot(path=str(ARTIFACTS / "label-error-review.png"), full_page=True)
    # then: decided here, and the image waits on the QA page as an edge case in the senior's name
    assert first.locator("p[role=status]").text_content() == "Sent to consensus review (QA page, edge cases)."
    entry.refresh_from_db()
    assert (entry.status, entry.decided_by, entry.comment) == (
        LabelErrorStatus.FLAGGED,
        team.senior,
        "The blowhole is at the top left, not here.",
    )
    wait_for(lambda: EdgeCase.objects.filter(image=doubted).exists(), "QA's edge case")  # by the worker
    edge_case = EdgeCase.objects.get(image=doubted)
    assert (edge_case.flagged_by, edge_case.status) == (team.senior, "open")
    assert edge_case.note.startswith("Label-error review: the model disagrees with the final answer (label quality")
    assert edge_case.note.endswith("The blowhole is at the top left, not here.")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/")
    assert "The blowhole is at the top left, not here." in page.content()
    # and the right label is still waiting, untouched
    assert LabelErrorScore.objects.get(image=right).status == LabelErrorStatus.OPEN


def test_a_senior_assigns_the_next_images_in_the_label_next_order(team, logged_in_page, live_server, predictor):
    # given: a faint spot (the model is unsure), a dark one and a clean surface, uploaded in that reverse order
    clean = spotted_image_create(project=team.project, spots=[], name="clean.png", seed=2)
    dark = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="dark.png", seed=1)
    faint = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="faint.png", spot_grey=100)
    label_next_score(project=team.project, predictor=predictor, model_id=1)
    page = logged_in_page("senior")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/label-next/")
    rows = page.locator("table.label-next tbody tr")
    assert [rows.nth(index).get_attribute("data-image-id") for index in range(3)] == [
        str(faint.pk),
        str(dark.pk),
        str(clean.pk),
    ]
    # when
    page.fill("#assign-next input[name=count]", "2")
    page.select_option("#assign-next select[name=annotator]", "inspector")
    page.click("#assign-next button")
    page.wait_for_selector("#assign-next-status:has-text('assigned')")
    page.screenshot(path=str(ARTIFACTS / "label-next.png"), full_page=True)
    # then: the two most uncertain, in that order in the inspector's queue
    assert page.text_content("#assign-next-status") == "2 new images assigned to inspector."
    queue = Assignment.objects.filter(annotator=team.inspector).order_by("id").values_list("image_id", flat=True)
    assert list(queue) == [faint.pk, dark.pk]
