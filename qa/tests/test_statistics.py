"""Statistics per annotator and per class, from hand-made rows and through the API (JSON and CSV)."""

from datetime import date

import pytest

from qa.selectors import qa_statistics_for_project
from qa.statistics import (
    AgreementRow,
    MatchRow,
    SpotCheckRow,
    SubmissionDay,
    agreement_by_day,
    annotator_statistics,
    class_statistics,
    iou_histogram,
)
from qa.tests.factories import annotate, assigned_image, square, submit_all

MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)
ANN, BOB, CARL = 1, 2, 3
CRACK, PORE = 10, 20


def test_statistics_from_hand_made_rows():
    # given: Ann and Bob compared twice (agreed on Monday, disagreed on Tuesday); Carl had two spot checks
    agreements = [AgreementRow(1, ANN, BOB, True, True, MONDAY), AgreementRow(2, ANN, BOB, False, True, TUESDAY)]
    matches = [
        MatchRow(1, CRACK, CRACK, True, 0.9, True, ()),
        MatchRow(2, CRACK, CRACK, True, 0.5, False, ("iou_below_threshold", "severity_mismatch")),
        MatchRow(2, None, PORE, False, 0.0, False, ("missed_by_first",)),
    ]
    spot_checks = [SpotCheckRow(CARL, True, frozenset({PORE})), SpotCheckRow(CARL, False, frozenset({CRACK}))]
    submissions = [SubmissionDay(ANN, MONDAY, 1), SubmissionDay(ANN, TUESDAY, 2), SubmissionDay(CARL, MONDAY, 1)]
    # when
    annotators = annotator_statistics(
        annotator_ids=[ANN, CARL],
        agreements=agreements,
        matches=matches,
        spot_checks=spot_checks,
        submission_days=submissions,
    )
    classes = class_statistics(defect_class_ids=[CRACK, PORE], matches=matches, spot_checks=spot_checks)
    # then
    ann, carl = annotators
    assert (ann.dual_images, ann.agreement_rate, ann.mean_iou, ann.severity_agreement_rate) == (2, 0.5, 0.7, 0.5)
    assert (ann.submitted_images, ann.throughput_images_per_day, ann.rejection_rate) == (3, 1.5, None)
    assert (carl.dual_images, carl.agreement_rate, carl.spot_checks, carl.rejection_rate) == (0, None, 2, 0.5)
    crack, pore = classes
    assert (crack.comparisons, crack.matched_pairs, crack.agreement_rate, crack.mean_iou) == (2, 2, 0.5, 0.7)
    assert crack.iou_histogram == [0, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert (pore.comparisons, pore.misses, pore.agreement_rate, pore.mean_iou, pore.rejection_rate) == (
        1,
        1,
        0.0,
        None,
        1.0,
    )
    assert [(day.day, day.images, day.rate) for day in agreement_by_day(agreements)] == [
        (MONDAY, 1, 1.0),
        (TUESDAY, 1, 0.0),
    ]


def test_an_iou_of_one_falls_in_the_last_bin():
    assert iou_histogram([0.0, 0.05, 1.0, 0.999]) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 2]


@pytest.mark.django_db
def test_statistics_api_json_and_csv(team, api, inspector2):
    # given: one agreeing and one disagreeing calibration image
    for seed, shift in ((1, 1), (2, 5)):
        image = assigned_image(team, team.inspector, inspector2, seed=seed)
        annotate(team.inspector, image, square(x=10))
        annotate(inspector2, image, square(x=10 + shift))
        submit_all(image, team.inspector, inspector2)
    path = f"/api/v1/projects/{team.project.pk}/qa/statistics/"
    # when
    body = api(team.senior).get(path).json()
    annotators_csv = api(team.senior).get(path, {"download": "annotators.csv"})
    refused = api(team.inspector).get(path)
    # then
    mean_iou = (90 / 110 + 50 / 150) / 2
    assert body["calibration"] == {
        "compared_images": 2,
        "target_images": 200,
        "is_complete": False,
        "image_judgement_rate": 1.0,
        "image_judgement_rate_required": 0.95,
    }
    assert [(row["annotator"], row["dual_images"], row["agreement_rate"]) for row in body["annotators"]] == [
        ("inspector", 2, 0.5),
        ("inspector2", 2, 0.5),
    ]
    crack = body["classes"][0]
    assert (crack["defect_class"], crack["matched_pairs"], round(crack["mean_iou"], 6)) == (
        "crack",
        2,
        round(mean_iou, 6),
    )
    assert crack["iou_histogram"] == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    assert annotators_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert annotators_csv["Content-Disposition"] == 'attachment; filename="tile-line-qa-annotators.csv"'
    lines = annotators_csv.content.decode().splitlines()
    assert lines[0] == (
        "annotator,submitted_images,throughput_images_per_day,dual_images,agreement_rate,mean_iou,"
        "severity_agreement_rate,spot_checks,rejection_rate"
    )
    assert lines[1].startswith("inspector,2,2.0,2,0.5,")
    assert refused.status_code == 403


@pytest.mark.django_db
def test_statistics_cost_a_fixed_number_of_queries(team, inspector2, django_assert_num_queries):
    # given: three compared images (the count of queries must not grow with them)
    for seed in (1, 2, 3):
        image = assigned_image(team, team.inspector, inspector2, seed=seed)
        annotate(team.inspector, image, square(x=10))
        annotate(inspector2, image, square(x=10 + seed))
        submit_all(image, team.inspector, inspector2)
    # when / then: policy, calibration count, agreements, matches, spot checks, submissions, users, classes
    with django_assert_num_queries(8):
        stats = qa_statistics_for_project(project=team.project)
    assert [row.dual_images for _, row in stats.annotators] == [3, 3]
