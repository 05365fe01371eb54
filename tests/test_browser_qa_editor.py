"""QA in the editor, in Chromium: class precedents under each class's description, "flag as edge case" (Q), and a
senior editing the final annotations after an adjudication ("Save and edit outlines in the editor").

Needs the built bundle: (cd frontend && npm install && npm run build)."""

import pytest

from annotation.models import Annotation
from annotation.services.images import assignments_create
from conftest import ARTIFACTS
from qa.models import Adjudication, EdgeCase
from qa.services.edge_cases import edge_case_decide, edge_case_flag
from qa.tests.factories import annotate, second_inspector, square, submit_all
from tests.factories import image_create
from tests.test_browser_editor import SAVE_TIMEOUT_MS, drag, editor_open, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_precedents_show_under_their_class_and_q_flags_the_image(team, logged_in_page, live_server):
    # given: two precedents of the crack class, one on an image the inspector may open
    mine = image_create(project=team.project, width=200, height=150, seed=21, name="casting-21.png")
    other = image_create(project=team.project, width=200, height=150, seed=22, name="casting-22.png")
    assignments_create(project=team.project, image_ids=[mine.pk], annotator=team.inspector, assigned_by=team.admin)
    for image, decision in ((other, "A hairline crack counts."), (mine, "A glaze line is not a crack.")):
        flagged = edge_case_flag(user=team.senior, image_id=image.pk, note="crack?")
        edge_case_decide(
            user=team.senior, edge_case_id=flagged.pk, decision=decision, precedent_defect_class_id=team.defect_class.pk
        )
    page = logged_in_page("inspector")
    editor_open(page, live_server, mine)
    page.wait_for_selector("#editor-root[data-precedents=loaded]")
    # when
    precedents = page.locator(f".precedents[data-class-id='{team.defect_class.pk}']")
    precedents.locator("summary").click()
    # then: each decision, with a link only to the image the inspector may open
    assert precedents.locator("summary").text_content() == "2 precedents"
    items = precedents.locator(".precedent")
    assert [items.nth(index).locator(".decision").text_content() for index in range(2)] == [
        "A glaze line is not a crack.",
        "A hairline crack counts.",
    ]
    assert items.nth(0).locator("a.precedent-image").get_attribute("href") == f"/images/{mine.pk}/edit/"
    assert items.nth(1).locator("a").count() == 0
    assert "image not in your queue" in items.nth(1).text_content()
    page.screenshot(path=str(ARTIFACTS / "editor-precedents.png"))
    # when: the help lists Q, and Q flags the image with a note
    page.keyboard.press("?")
    assert "Flag the image as an edge case" in page.text_content("#help-dialog")
    page.keyboard.press("Escape")
    page.keyboard.press("q")
    page.fill("#edge-case-note", "Glaze line or crack? It shines under the lamp.")
    page.click("#edge-case-send")
    page.wait_for_selector("#notice:has-text('Flagged as an edge case')")
    # then
    flagged = EdgeCase.objects.filter(image=mine, flagged_by=team.inspector).get()
    assert (flagged.note, flagged.status) == ("Glaze line or crack? It shines under the lamp.", "open")


def test_a_senior_decides_then_edits_the_final_outlines_in_the_editor(team, logged_in_page, live_server):
    # given: a disagreement (A drew one crack, B another) waiting for a senior
    inspector2 = second_inspector(team)
    image = image_create(project=team.project, width=200, height=150, seed=23, name="casting-23.png")
    for annotator in (team.inspector, inspector2):
        assignments_create(project=team.project, image_ids=[image.pk], annotator=annotator, assigned_by=team.admin)
    first = annotate(team.inspector, image, square(x=20, y=20, side=30))
    annotate(inspector2, image, square(x=100, y=80, side=30))
    submit_all(image, team.inspector, inspector2)
    adjudication = Adjudication.objects.get(agreement__image=image)
    page = logged_in_page("senior")
    page.goto(f"{live_server.url}/qa/adjudications/{adjudication.pk}/")
    page.wait_for_selector("#adjudication[data-ready=true]")
    # when: take A, "Save and edit outlines", then draw a second defect on the final answer
    page.click("#take-first")
    page.fill("#reason", "A is right; B's defect is a reflection. A second small crack was missed by both.")
    page.click("#decide-and-edit")
    page.wait_for_url(f"{live_server.url}/images/{image.pk}/edit/?final=1")
    page.wait_for_selector("#editor-root[data-state=ready][data-mode=final]")
    page.wait_for_function("window.defectlab.editor.image.firstPaintAt !== null")
    shown = page.locator(".defect-row").count()
    page.keyboard.press("r")
    drag(page, [(140, 20), (170, 40)])
    wait_saved(page)
    page.screenshot(path=str(ARTIFACTS / "editor-final-annotations.png"))
    # then: the editor showed only the final answer; the new defect joined it, authored by the senior
    adjudication.refresh_from_db()
    assert (adjudication.decision, shown) == ("edited", 1)
    finals = list(Annotation.objects.filter(image=image, is_final=True).order_by("id"))
    assert [(final.author_id, final.geometry["polygons"][0]["exterior"][0]) for final in finals] == [
        (team.senior.pk, first.geometry["polygons"][0]["exterior"][0]),
        (team.senior.pk, [140.0, 20.0]),
    ]
    assert Annotation.objects.filter(image=image, is_final=False).count() == 2  # A's and B's work stays
    assert page.text_content("#banner").startswith("Editing this image's final annotations as a reviewer")
    assert page.is_disabled("#submit-button")


def test_an_inspector_who_submitted_sees_the_editor_read_only(team, logged_in_page, live_server):
    # given
    image = image_create(project=team.project, width=200, height=150, seed=24, name="casting-24.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    submit_all(image, team.inspector)
    page = logged_in_page("inspector")
    editor_open(page, live_server, image)
    # when: a rectangle drawn anyway
    page.keyboard.press("r")
    drag(page, [(50, 50), (80, 80)])
    # then: the server refuses it with the reason, and nothing is stored
    page.wait_for_selector(".refused", timeout=SAVE_TIMEOUT_MS)
    assert "You submitted this image" in page.text_content(".refused")
    assert "read-only" in page.text_content("#banner")
    assert Annotation.objects.filter(image=image).count() == 0
