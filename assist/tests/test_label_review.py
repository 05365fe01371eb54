"""Label next and label-error review, without HTTP except where the answer is the API's: the scores a real
Predictor (a tiny network exported to ONNX, assist/tests/darkness_model.py) gives real stored images, new work
assigned in the ranking's order, the label-error queue and a senior's decisions, a doubted label reaching QA's
consensus review."""

import pytest

from annotation.models import Assignment, DefectClass, Image, ImageStatus
from annotation.queue_selectors import image_ids_next_to_assign, queue_next_for_user
from annotation.services.annotations import image_defect_free_set
from annotation.services.images import assignment_submit, assignments_create
from annotation.services.reviews import FinalDefect, annotations_finalize
from assist.errors import LabelErrorDecided, NoPromotedModel
from assist.job_kinds import LABEL_ERRORS_JOB_KIND, LABEL_NEXT_JOB_KIND
from assist.label_review import uncertainty_of
from assist.label_review_selectors import label_error_list_for_project, label_next_list_for_project
from assist.models import LabelErrorScore, LabelErrorStatus, LabelNextScore
from assist.services.label_review import (
    label_error_decide,
    label_errors_score,
    label_errors_start,
    label_next_score,
    label_next_start,
)
from assist.services.pixels import image_pixels
from assist.services.promoted_model import NO_PROMOTED_MODEL
from assist.tests.darkness_model import darkness_predictor
from assist.tests.factories import spotted_image_create, square
from defectlab.errors import NotFound, PermissionDenied, ValidationFailed
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_create, job_run
from qa.models import EdgeCase, EdgeCaseStatus
from qa.services.edge_cases import edge_case_open_for_doubt
from qa.tests.factories import annotate

pytestmark = pytest.mark.django_db

SPOT = (20, 20, 10)  # x, y, side: the spot every test image has (where it has one)
MODEL_ID = 7  # the registry's id of the model, as the jobs record it


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    return darkness_predictor(tmp_path_factory.mktemp("model"))


@pytest.fixture
def blowhole(team) -> DefectClass:
    return DefectClass.objects.create(project=team.project, name="blowhole", position=0)


def spotted(team, name: str, *, spot_grey: int = 60, spots=(SPOT,), seed: int = 0):
    return spotted_image_create(project=team.project, spots=list(spots), name=name, spot_grey=spot_grey, seed=seed)


# Label next


@pytest.fixture
def to_label(team):
    """A faint spot (the model is unsure), a dark one (sure), a clean surface (sure there is none), and three
    images that are not to label: one annotated, one judged defect-free, one being worked on."""
    images = {
        "faint": spotted(team, "faint.png", spot_grey=100),
        "dark": spotted(team, "dark.png", seed=1),
        "clean": spotted(team, "clean.png", spots=(), seed=2),
        "annotated": spotted(team, "annotated.png", seed=3),
        "defect_free": spotted(team, "defect-free.png", spots=(), seed=4),
        "started": spotted(team, "started.png", spot_grey=100, seed=5),
    }
    annotate(team.admin, images["annotated"], square(x=20, y=20, side=10))
    image_defect_free_set(user=team.admin, image_id=images["defect_free"].pk, is_defect_free=True)
    images["started"].status = ImageStatus.IN_PROGRESS
    images["started"].save(update_fields=["status"])
    return images


def test_label_next_scores_the_images_to_label_with_the_models_uncertainty(team, predictor, to_label):
    # when
    result = label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    # then: only the three images nobody has started on, each with the uncertainty of the model's probabilities
    assert result == {"model_id": MODEL_ID, "images": 3, "skipped_too_large": 0}
    rows = {row.image_id: row for row in LabelNextScore.objects.all()}
    assert set(rows) == {to_label[name].pk for name in ("faint", "dark", "clean")}
    for name in ("faint", "dark", "clean"):
        expected = uncertainty_of(predictor.probabilities(image_pixels(to_label[name]))[0])
        row = rows[to_label[name].pk]
        assert (row.score, row.mean_entropy, row.defect_region_px, row.model_id) == pytest.approx(
            (expected.score, expected.mean_entropy, expected.defect_region_px, MODEL_ID)
        )
    # and the ranking puts the faint spot first and the clean surface last
    ranking = [row.image_id for row in label_next_list_for_project(project=team.project)]
    assert ranking == [to_label["faint"].pk, to_label["dark"].pk, to_label["clean"].pk]
    assert rows[to_label["faint"].pk].score > 0.5 > rows[to_label["dark"].pk].score > rows[to_label["clean"].pk].score
    assert rows[to_label["clean"].pk].defect_region_px == 0


def test_an_image_labelled_since_its_score_leaves_the_ranking(team, predictor, to_label):
    label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    # when
    annotate(team.admin, to_label["faint"], square(x=20, y=20, side=10))
    # then
    ranking = [row.image_id for row in label_next_list_for_project(project=team.project)]
    assert ranking == [to_label["dark"].pk, to_label["clean"].pk]


def test_new_work_is_assigned_in_the_ranking_order_and_the_queue_follows_it(team, predictor, to_label):
    # given: one more new image the model never scored (uploaded after the run)
    label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    unscored = spotted(team, "later.png", seed=9)
    # when
    next_ids = image_ids_next_to_assign(project=team.project, count=4)
    assignments_create(project=team.project, image_ids=next_ids, annotator=team.inspector, assigned_by=team.senior)
    # then: ranked images first, most uncertain first, then the unscored by upload order
    assert next_ids == [to_label["faint"].pk, to_label["dark"].pk, to_label["clean"].pk, unscored.pk]
    queue = Assignment.objects.filter(annotator=team.inspector).order_by("id").values_list("image_id", flat=True)
    assert list(queue) == next_ids
    assert queue_next_for_user(user=team.inspector).image_id == to_label["faint"].pk


def test_the_assignment_api_assigns_the_next_images_by_count(team, api, predictor, to_label):
    label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    path = f"/api/v1/projects/{team.project.pk}/assignments/"
    # when
    response = api(team.senior).post(path, {"annotator": "inspector", "count": 2}, format="json")
    both = api(team.senior).post(path, {"annotator": "inspector", "count": 1, "image_ids": [1]}, format="json")
    # then
    assert (response.status_code, response.json()) == (201, {"assigned": 2})
    assert list(Assignment.objects.order_by("id").values_list("image_id", flat=True)) == [
        to_label["faint"].pk,
        to_label["dark"].pk,
    ]
    assert both.status_code == 400
    assert "Send image_ids or count, one of the two." in str(both.json())


def test_without_a_ranking_new_work_goes_in_upload_order(team, to_label):
    new_ids = sorted(to_label[name].pk for name in ("faint", "dark", "clean", "started"))  # "started": not new
    assert image_ids_next_to_assign(project=team.project, count=10) == new_ids[:3]


# Label-error review


@pytest.fixture
def finals(team, blowhole):
    """Final answers: one on the spot (right), one beside it with the spot unlabelled (wrong), one whose class
    the model does not know, and one the inspector's submitted work made (wrong too)."""
    right, wrong, unknown = (spotted(team, f"{name}.png", seed=seed) for seed, name in enumerate(["r", "w", "u"]))
    scratch = DefectClass.objects.create(project=team.project, name="scratch", position=5)
    for image, defect_class, x in [(right, blowhole, 20), (wrong, blowhole, 70), (unknown, scratch, 20)]:
        defect = FinalDefect(defect_class_id=defect_class.pk, geometry_data=square(x=x, y=20, side=10))
        annotations_finalize(image=image, defects=[defect], actor=team.admin)
    inspected = spotted(team, "inspected.png", seed=7)
    assignments_create(project=team.project, image_ids=[inspected.pk], annotator=team.inspector, assigned_by=None)
    work = annotate(team.inspector, inspected, square(x=60, y=50, side=10), defect_class=blowhole)
    assignment_submit(image=inspected, annotator=team.inspector)
    annotations_finalize(image=inspected, defects=[FinalDefect(source=work)], actor=team.senior)
    return {"right": right, "wrong": wrong, "unknown": unknown, "inspected": inspected}


def test_label_errors_put_the_labels_the_model_disagrees_with_first(team, predictor, finals, blowhole):
    # when
    result = label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    # then: the unknown class is skipped; the two misplaced labels come before the right one
    assert result == {"model_id": MODEL_ID, "images": 3, "skipped_unknown_class": 1, "skipped_too_large": 0}
    queue = list(label_error_list_for_project(project=team.project))
    assert [entry.image_id for entry in queue][2] == finals["right"].pk
    assert {entry.image_id for entry in queue[:2]} == {finals["wrong"].pk, finals["inspected"].pk}
    right = queue[2]
    wrong = LabelErrorScore.objects.get(image=finals["wrong"])
    assert wrong.score < 0.1 < 0.9 < right.score
    assert right.annotations[0]["self_confidence"] > 0.9 > 0.1 > wrong.annotations[0]["self_confidence"]
    assert (wrong.unlabelled_defect_px, wrong.disagreeing_px, right.unlabelled_defect_px) == (100, 200, 0)
    # and the model's drawing is the spot, as a blowhole
    assert [region["defect_class_id"] for region in wrong.prediction] == [blowhole.pk]
    exterior = wrong.prediction[0]["geometry"]["polygons"][0]["exterior"]
    assert {tuple(vertex) for vertex in exterior} == {(20, 20), (20, 29), (29, 29), (29, 20)}


def test_a_kept_label_stays_kept_until_its_final_annotations_change(team, predictor, finals, blowhole):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["wrong"])
    # when
    label_error_decide(user=team.senior, label_error_id=entry.pk, outcome="kept")
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    # then
    entry.refresh_from_db()
    assert (entry.status, entry.decided_by) == (LabelErrorStatus.KEPT, team.senior)
    assert entry.pk not in [row.pk for row in label_error_list_for_project(project=team.project)]
    with pytest.raises(LabelErrorDecided, match="already decided"):
        label_error_decide(user=team.senior, label_error_id=entry.pk, outcome="kept")
    # and when the final answer changes, the next run opens it again
    defect = FinalDefect(defect_class_id=blowhole.pk, geometry_data=square(x=20, y=20, side=10))
    annotations_finalize(image=finals["wrong"], defects=[defect], actor=team.admin)
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry.refresh_from_db()
    assert (entry.status, entry.decided_by, entry.score > 0.9) == (LabelErrorStatus.OPEN, None, True)


def test_a_doubted_label_goes_to_qas_consensus_review(
    team, predictor, finals, sent_events, django_capture_on_commit_callbacks
):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["wrong"])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        label_error_decide(user=team.senior, label_error_id=entry.pk, outcome="flagged", comment="The spot is at 20,20")
    # then: the core announced the doubt once committed, with the model's scores and the senior's words
    entry.refresh_from_db()
    assert (entry.status, entry.comment, entry.decided_by) == (
        LabelErrorStatus.FLAGGED,
        "The spot is at 20,20",
        team.senior,
    )
    worst = entry.annotations[0]["self_confidence"]
    note = (
        f"Label-error review: the model disagrees with the final answer (label quality {entry.score:.3f}; the model "
        f"gives the least sure annotation {worst:.0%}; 100 px it sees as defect are unlabelled). The spot is at 20,20"
    )
    payload = {"image_id": finals["wrong"].pk, "user_id": team.senior.pk, "note": note}
    assert sent_events == [("qa.tasks.final_answer_doubted_task", payload)]
    # and when QA's handler runs (twice: a redelivered task), one open edge case in the senior's name
    first, again = edge_case_open_for_doubt(**payload), edge_case_open_for_doubt(**payload)
    assert first == again == EdgeCase.objects.get()
    assert (first.image_id, first.flagged_by, first.note, first.status) == (
        finals["wrong"].pk,
        team.senior,
        note,
        EdgeCaseStatus.OPEN,
    )


def test_only_a_final_answer_can_be_doubted(team, predictor, finals, sent_events, django_capture_on_commit_callbacks):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["inspected"])
    Image.objects.filter(pk=finals["inspected"].pk).update(status=ImageStatus.IN_REVIEW)  # QA took it back meanwhile
    with (
        pytest.raises(ValidationFailed, match="Only a final answer can be doubted"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        label_error_decide(user=team.senior, label_error_id=entry.pk, outcome="flagged")
    assert (LabelErrorScore.objects.get(pk=entry.pk).status, sent_events) == (LabelErrorStatus.OPEN, [])


@pytest.mark.parametrize(("role", "error"), [("inspector", PermissionDenied), ("ml_engineer", PermissionDenied)])
def test_only_seniors_and_admins_decide(team, predictor, finals, role, error):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["wrong"])
    with pytest.raises(error):
        label_error_decide(user=team.member(role), label_error_id=entry.pk, outcome="kept")
    with pytest.raises(NotFound):
        label_error_decide(user=team.outsider, label_error_id=entry.pk, outcome="kept")
    assert LabelErrorScore.objects.get(pk=entry.pk).status == LabelErrorStatus.OPEN


# Starting the jobs, and the API


@pytest.mark.parametrize("start", [label_next_start, label_errors_start])
def test_without_a_promoted_model_the_jobs_are_refused_with_what_to_do(team, start):
    with pytest.raises(NoPromotedModel, match="no promoted model: train one and promote it") as error:
        start(user=team.senior, project_id=team.project.pk)
    assert (error.value.code, error.value.status) == ("no_promoted_model", 409)
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"), [("senior", 200), ("admin", 200), ("inspector", 403), ("ml_engineer", 403), ("outsider", 404)]
)
def test_the_rankings_are_for_seniors_and_admins(team, api, predictor, finals, to_label, role, status):
    label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    base = f"/api/v1/projects/{team.project.pk}"
    for path in (f"{base}/label-next/", f"{base}/label-errors/"):
        assert api(team.member(role)).get(path).status_code == status


def test_the_label_error_list_shows_the_image_its_annotations_and_the_prediction(team, api, predictor, finals):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["inspected"])
    # when: the two misplaced labels come first (which of them first is the noise's choice)
    body = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/label-errors/?limit=2").json()
    # then: the inspected one whole, with its annotator
    image = finals["inspected"]
    annotation = image.annotations.get(is_final=True)
    assert {row["image"]["id"] for row in body} == {image.pk, finals["wrong"].pk}
    row = next(row for row in body if row["id"] == entry.pk)
    assert row == {
        "id": entry.pk,
        "image": {
            "id": image.pk,
            "original_filename": "inspected.png",
            "width": 120,
            "height": 90,
            "status": "final",
            "urls": {
                "display": f"/api/v1/images/{image.pk}/file/display",
                "thumbnail": f"/api/v1/images/{image.pk}/file/thumbnail",
            },
        },
        "score": entry.score,
        "annotations": [
            {
                "id": annotation.pk,
                "defect_class_id": annotation.defect_class_id,
                "revision": annotation.revision,
                "geometry": annotation.geometry,
                "self_confidence": entry.annotations[0]["self_confidence"],
                "area_px": 100,
            }
        ],
        "prediction": entry.prediction,
        "unlabelled_defect_px": 100,
        "disagreeing_px": 200,
        "annotators": ["inspector"],
        "status": "open",
        "decided_by": None,
        "decided_at": None,
        "comment": "",
        "model_id": MODEL_ID,
        "scored_at": row["scored_at"],
    }


def test_deciding_through_the_api(team, api, predictor, finals):
    label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    entry = LabelErrorScore.objects.get(image=finals["inspected"])
    path = f"/api/v1/label-errors/{entry.pk}/decide/"
    # when
    refused = api(team.inspector).post(path, {"outcome": "kept"}, format="json")
    hidden = api(team.outsider).post(path, {"outcome": "kept"}, format="json")
    bad = api(team.senior).post(path, {"outcome": "maybe"}, format="json")
    flagged = api(team.senior).post(path, {"outcome": "flagged", "comment": "Redraw it"}, format="json")
    again = api(team.senior).post(path, {"outcome": "kept"}, format="json")
    # then
    assert [refused.status_code, hidden.status_code, bad.status_code] == [403, 404, 400]
    assert flagged.status_code == 200, flagged.json()
    assert (flagged.json()["status"], flagged.json()["annotators"], flagged.json()["decided_by"]) == (
        "flagged",
        ["inspector"],
        "senior",
    )
    assert (again.status_code, again.json()["code"]) == (409, "label_error_decided")


@pytest.mark.parametrize("kind", [LABEL_NEXT_JOB_KIND, LABEL_ERRORS_JOB_KIND])
def test_a_job_without_its_promoted_model_fails_with_the_reason(team, kind):
    # given: a job started while a model was promoted (the registry's id 3), run where none is promoted now
    job = job_create(kind=kind, project=team.project, created_by=team.senior, params={"model_id": 3})
    # when
    job = job_run(job_id=job.pk)
    # then: failed with the sentence, nothing scored
    assert (job.status, job.error) == (JobStatus.FAILED, NO_PROMOTED_MODEL)
    assert (LabelNextScore.objects.count(), LabelErrorScore.objects.count()) == (0, 0)


def test_images_too_large_to_hold_whole_are_not_ranked(team, predictor, to_label, monkeypatch):
    monkeypatch.setattr("assist.services.label_review.SCORE_MAX_IMAGE_PX", 120 * 90 - 1)  # the images: 120 x 90
    result = label_next_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    assert (result, LabelNextScore.objects.count()) == ({"model_id": MODEL_ID, "images": 0, "skipped_too_large": 3}, 0)


def test_images_too_large_to_hold_whole_are_not_checked(team, predictor, finals, monkeypatch):
    monkeypatch.setattr("assist.services.label_review.SCORE_MAX_IMAGE_PX", 120 * 90 - 1)
    result = label_errors_score(project=team.project, predictor=predictor, model_id=MODEL_ID)
    expected = {"model_id": MODEL_ID, "images": 0, "skipped_unknown_class": 0, "skipped_too_large": 4}
    assert (result, LabelErrorScore.objects.count()) == (expected, 0)
