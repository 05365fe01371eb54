"""The QA pages' forms in Chromium, beyond the QA loop (tests/test_qa_loop.py): an edge case decided as a class
precedent on the QA page, and the server's refusal shown on the spot-check page's "Draw a sample" form.

Needs the built bundle: (cd frontend && npm install && npm run build)."""

import pytest
from django.urls import reverse

from qa.models import SpotCheckSample
from qa.services.edge_cases import edge_case_flag
from tests.factories import image_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_senior_decides_an_edge_case_as_a_precedent_on_the_qa_page(team, logged_in_page, live_server):
    # given
    image = image_create(project=team.project, seed=31, name="casting-31.png")
    flagged = edge_case_flag(user=team.senior, image_id=image.pk, note="glaze or crack?")
    page = logged_in_page("senior")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/")
    form = page.locator("form[data-form=edge-case-decide]")
    # when
    form.locator("input[name=decision]").fill("A glaze line is not a crack.")
    form.locator("select[name=precedent_defect_class_id]").select_option(str(team.defect_class.pk))
    form.locator("button").click()
    page.wait_for_selector("td:has-text('No open edge cases.')")
    # then: decided with the precedent; the downloads are the statistics API's, reversed by name
    flagged.refresh_from_db()
    assert (flagged.status, flagged.decision, flagged.decided_by, flagged.precedent_defect_class_id) == (
        "decided",
        "A glaze line is not a crack.",
        team.senior,
        team.defect_class.pk,
    )
    statistics_url = reverse("qa-statistics", args=[team.project.pk])
    assert page.get_attribute("text=annotators.csv", "href") == f"{statistics_url}?download=annotators.csv"


def test_drawing_a_sample_before_calibration_shows_the_servers_reason(team, logged_in_page, live_server):
    # given
    page = logged_in_page("senior")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/spot-checks/")
    page.wait_for_selector("#spot-checks[data-ready=true]", state="attached")  # empty: nothing waits for a check
    # when
    page.fill("#draw-form input[name=seed]", "7")
    page.click("#draw-form button")
    # then
    status = page.wait_for_selector("#draw-form .form-status.error")
    assert status.text_content().startswith("Spot checks start after calibration: 0 of ")
    assert SpotCheckSample.objects.count() == 0
