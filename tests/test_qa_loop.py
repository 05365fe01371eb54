"""The whole QA loop with real users, the real worker and Chromium: calibration by two inspectors through the API,
agreement computed by the worker on submit, disagreements queued, a senior adjudicating in the browser, then a
10% spot-check sample after calibration that the same seed draws again."""

import time

import pytest

from annotation.models import Annotation, Image, ImageStatus
from conftest import ARTIFACTS
from qa.models import Adjudication, AdjudicationStatus, Agreement, AgreementPhase, SpotCheck
from qa.sampling import spot_check_draw
from qa.tests.factories import second_inspector, square
from tests.factories import image_create

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WORKER_TIMEOUT_SECONDS = 60


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def work_of(image: Image) -> list[tuple]:
    """Every non-final annotation on the image, as it is stored."""
    return list(
        Annotation.objects.filter(image=image, is_final=False)
        .order_by("id")
        .values_list("id", "author__username", "defect_class_id", "geometry", "rle", "revision")
    )


def test_calibration_adjudication_in_the_browser_and_a_repeatable_spot_check(
    celery_worker_process, team, api, logged_in_page, live_server
):
    # given: two inspectors; three calibration images, then spot checks of 10%
    inspector2 = second_inspector(team)
    admin, senior, first, second = api(team.admin), api(team.senior), api(team.inspector), api(inspector2)
    qa_base = f"/api/v1/projects/{team.project.pk}/qa"
    admin_page = logged_in_page("admin")
    admin_page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/")
    admin_page.fill("#policy-form input[name=calibration_image_count]", "3")
    admin_page.fill("#policy-form input[name=note]", "a short calibration for this line")
    admin_page.click("#policy-form button")
    admin_page.wait_for_selector("h2:has-text('QA policy') .badge:has-text('version 2')")
    policy = admin.get(f"{qa_base}/policy/").json()
    assert (policy["calibration_image_count"], policy["spot_check_rate"], policy["created_by"]) == (3, 0.1, "admin")
    agree, redraw, missed = (
        image_create(project=team.project, seed=seed, name=f"cal-{seed}.png") for seed in (1, 2, 3)
    )
    plan = senior.post(
        f"{qa_base}/assignments/",
        {"annotators": ["inspector", "inspector2"], "image_ids": [agree.pk, redraw.pk, missed.pk]},
    )
    assert plan.json()["dual_image_ids"] == [agree.pk, redraw.pk, missed.pk]

    def draw(client, image: Image, geometry: dict) -> None:
        response = client.post(
            f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": team.defect_class.pk, "geometry": geometry}
        )
        assert response.status_code == 201, response.json()

    # when: both annotate through the API (A first); B cannot see A's work meanwhile
    draw(first, agree, square(x=10))
    draw(first, redraw, square(x=10))
    draw(first, missed, square(x=20))
    seen_by_b = second.get(f"/api/v1/images/{agree.pk}/annotations/").json()
    draw(second, agree, square(x=11))
    draw(second, redraw, square(x=15))
    draw(second, redraw, square(x=40, y=30))
    for client in (first, second):
        for image in (agree, redraw, missed):
            assert client.post(f"/api/v1/images/{image.pk}/submit/").status_code == 200
    wait_for(lambda: Agreement.objects.count() == 3, "the worker to compare the three calibration images")

    # then: agreement is final at once; the two disagreements wait for a senior, whom inspectors cannot stand in for
    assert seen_by_b == []
    assert list(Agreement.objects.order_by("image_id").values_list("image_id", "is_agreed", "phase")) == [
        (agree.pk, True, AgreementPhase.CALIBRATION),
        (redraw.pk, False, AgreementPhase.CALIBRATION),
        (missed.pk, False, AgreementPhase.CALIBRATION),
    ]
    assert Image.objects.get(pk=agree.pk).status == ImageStatus.FINAL
    queue = senior.get(f"{qa_base}/adjudications/").json()["results"]
    assert [(item["image"]["id"], item["reasons"]) for item in queue] == [
        (redraw.pk, ["iou_below_threshold", "missed_by_first"]),
        (missed.pk, ["defect_free_mismatch", "missed_by_second"]),
    ]
    assert first.get(f"{qa_base}/adjudications/").status_code == 403
    assert first.get(f"/api/v1/qa/adjudications/{queue[0]['id']}/").status_code == 403
    work_before = work_of(redraw)

    # when: the senior takes B's work on the second image, in the browser
    page = logged_in_page("senior")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/adjudications/")
    page.click("#adjudication-queue tr:has-text('cal-2.png') >> text=Adjudicate")
    page.wait_for_selector("#adjudication[data-ready=true]")
    assert page.locator("#pairs tbody tr").count() == 2
    page.click("#take-second")
    page.fill("#reason", "B outlined the crack correctly and found the second one.")
    page.click("#decide")
    page.wait_for_selector("#decide-status:has-text('Decision saved')")
    page.screenshot(path=str(ARTIFACTS / "qa-adjudication.png"), full_page=True)

    # then: the final annotation is the adjudicated one; A's and B's work is still there, unchanged
    adjudication = Adjudication.objects.get(agreement__image=redraw)
    assert (adjudication.status, adjudication.decision, adjudication.adjudicator) == (
        AdjudicationStatus.DECIDED,
        "second",
        team.senior,
    )
    b_geometries = [geometry for _, author, _, geometry, _, _ in work_before if author == "inspector2"]
    assert [a.geometry for a in Annotation.objects.filter(image=redraw, is_final=True).order_by("id")] == b_geometries
    assert work_of(redraw) == work_before
    assert [author for _, author, *_ in work_before] == ["inspector", "inspector2", "inspector2"]
    assert Image.objects.get(pk=redraw.pk).status == ImageStatus.FINAL
    decided = senior.post(
        f"/api/v1/qa/adjudications/{queue[1]['id']}/decide/", {"decision": "first", "reason": "B missed it"}
    )
    assert decided.status_code == 200, decided.json()

    # when: after calibration, ten images go to one inspector each and a sample is drawn
    later = [image_create(project=team.project, seed=seed, name=f"part-{seed}.png") for seed in range(10, 20)]
    plan = senior.post(f"{qa_base}/assignments/", {"annotators": ["inspector"], "image_ids": [i.pk for i in later]})
    assert (plan.json()["dual_image_ids"], len(plan.json()["single_image_ids"])) == ([], 10)
    for image in later:
        draw(first, image, square(x=12))
        assert first.post(f"/api/v1/images/{image.pk}/submit/").status_code == 200
    sample = senior.post(f"{qa_base}/spot-check-samples/", {})
    assert sample.status_code == 201, sample.json()
    sample = sample.json()
    wait_for(
        lambda: Image.objects.filter(pk__in=[i.pk for i in later], status=ImageStatus.FINAL).count() == 9,
        "the worker to release the images the sample passed over",
    )

    # then: one image (10%) waits for a senior, inspectors cannot open the queue, and the seed draws it again
    assert sample["population_image_ids"] == [image.pk for image in later]
    assert len(sample["drawn_image_ids"]) == 1
    checks = senior.get(f"{qa_base}/spot-checks/").json()["results"]
    assert [check["image"]["id"] for check in checks] == sample["drawn_image_ids"]
    assert first.get(f"{qa_base}/spot-checks/").status_code == 403
    assert spot_check_draw(sample["population_image_ids"], rate=0.10, seed=sample["seed"]) == sample["drawn_image_ids"]
    assert senior.get(f"{qa_base}/spot-check-samples/").json()["results"][0]["is_reproducible"] is True
    assert SpotCheck.objects.get().annotator == team.inspector

    # when: the senior accepts the sampled image in the browser, then opens the QA page
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/spot-checks/")
    page.wait_for_selector("#spot-checks[data-ready=true]")
    assert page.text_content(".reproducible") == "yes: same seed, same sample"
    page.click(".spot-check >> text=Accept")
    page.wait_for_selector(".spot-check:has-text('Accepted.')")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/qa/")
    page.wait_for_selector("#agreement-over-time svg circle")
    page.screenshot(path=str(ARTIFACTS / "qa-project.png"), full_page=True)

    # then: every image is final and the statistics count the calibration
    assert Image.objects.filter(project=team.project).exclude(status=ImageStatus.FINAL).count() == 0
    assert page.text_content("#image-judgement-rate") == "0.667"  # B called one image defect-free
    assert page.locator("#iou-histograms svg").count() == 1
