"""Pre-labels: refused without an engine that finds defects on its own; the job (run here, in-process) writes
suggestions, never annotations; inspectors accept (it becomes their annotation) or delete each one.

The engine is a real one registered for these tests (assist/tests/prelabel_engine.py), not a mock; the same job
through a real worker is tests/test_assist_prelabel_worker.py."""

import pytest

from annotation.models import Annotation, AnnotationSource
from annotation.services.annotations import image_defect_free_set
from annotation.services.images import assignment_submit, assignments_create
from assist.models import DecisionKind, Suggestion, SuggestionDecision, SuggestionOrigin
from assist.services.prelabels import prelabel_run, prelabels_start
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_run
from qa.tests.factories import annotate, square

pytestmark = pytest.mark.django_db

SPOTS = [(20, 20, 8), (70, 50, 10)]  # two dark squares: x, y, side


@pytest.fixture
def engine():
    with prelabel_engine.registered():
        yield prelabel_engine.NAME


@pytest.fixture
def image(team):
    image = spotted_image_create(project=team.project, spots=SPOTS)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    return image


def start(api, user, project, **body):
    return api(user).post(f"/api/v1/projects/{project.pk}/prelabels/", body, format="json")


def run(job: Job) -> Job:
    return job_run(job_id=job.pk)


def test_with_only_the_classical_engine_prelabels_are_refused_with_what_to_do(team, api, image):
    response = start(api, team.senior, team.project, image_ids=[image.pk])
    assert response.status_code == 409
    assert response.json() == {
        "code": "no_prelabel_engine",
        "message": "No engine can pre-label: train a model (the classical engine and SAM need a prompt).",
        "engines": ["classical"],
    }
    assert Job.objects.count() == 0


def test_naming_the_classical_engine_says_why_it_cannot(team, api, image, engine):
    response = start(api, team.admin, team.project, image_ids=[image.pk], engine="classical")
    assert (response.status_code, response.json()["code"]) == (409, "no_prelabel_engine")
    assert "'classical' needs a prompt from an inspector" in response.json()["message"]


@pytest.mark.parametrize(
    ("role", "status"), [("senior", 202), ("admin", 202), ("inspector", 403), ("ml_engineer", 403), ("outsider", 404)]
)
def test_seniors_and_admins_start_prelabels(team, api, image, engine, role, status):
    response = start(api, team.member(role), team.project, image_ids=[image.pk])
    assert response.status_code == status, response.json()
    if status == 202:
        job = Job.objects.get()
        assert response.json()["id"] == job.pk
        assert (job.kind, job.status, job.progress_total) == ("assist_prelabel", JobStatus.QUEUED, 1)
        assert job.params == {"engine": engine, "defect_class_id": team.defect_class.pk, "image_ids": [image.pk]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Send image_ids or all_unlabelled, one of the two."),
        ({"image_ids": [1], "all_unlabelled": True}, "Send image_ids or all_unlabelled, one of the two."),
        ({"image_ids": []}, "Ensure this field has at least 1 elements"),
        ({"image_ids": [10**12]}, "1 of the images are not in this project."),
        ({"all_unlabelled": True, "engine": "nope"}, "No assist engine 'nope' here"),
        ({"all_unlabelled": True, "defect_class_id": 10**12}, "No such active defect class in this project."),
    ],
)
def test_bad_requests_are_refused_before_a_job_exists(team, api, image, engine, body, message):
    response = start(api, team.senior, team.project, **body)
    assert response.status_code == 400, response.json()
    assert message in response.json()["message"]
    assert Job.objects.count() == 0


def test_the_job_writes_suggestions_not_annotations_and_runs_again_without_twins(team, image, engine):
    # given
    job = prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk])
    # when
    job = run(job)
    # then
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, "")
    assert job.result == {"engine": engine, "images": 1, "suggestions": 2}
    suggestions = list(Suggestion.objects.order_by("geometry__polygons__0__exterior__0__0"))
    assert [(s.origin, s.engine, s.defect_class_id, s.job_id) for s in suggestions] == [
        (SuggestionOrigin.PRELABEL, engine, team.defect_class.pk, job.pk)
    ] * 2
    boxes = [(s.geometry["polygons"][0]["exterior"], s.vertex_count) for s in suggestions]
    assert boxes == [
        ([[20, 20], [20, 27], [27, 27], [27, 20]], 4),
        ([[70, 50], [70, 59], [79, 59], [79, 50]], 4),
    ]
    assert Annotation.objects.count() == 0  # nothing counts as work until accepted
    # and when its worker was lost and the job runs again: the image it wrote is skipped
    assert prelabel_run(job=JobContext(job)) == {"engine": engine, "images": 1, "suggestions": 0}
    assert Suggestion.objects.count() == 2


def test_all_unlabelled_skips_labelled_defect_free_and_waiting_images(team, image, engine):
    # given: one image labelled, one judged defect-free, one pre-labelled already (image), one untouched
    labelled = spotted_image_create(project=team.project, spots=SPOTS, seed=1, name="labelled.png")
    annotate(team.admin, labelled, square(x=5))
    free = spotted_image_create(project=team.project, spots=[], seed=2, name="free.png")
    image_defect_free_set(user=team.admin, image_id=free.pk, is_defect_free=True)
    untouched = spotted_image_create(project=team.project, spots=SPOTS[:1], seed=3, name="untouched.png")
    run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    # when
    job = run(prelabels_start(user=team.senior, project_id=team.project.pk, is_all_unlabelled=True))
    # then
    assert job.result == {"engine": engine, "images": 1, "suggestions": 1}
    assert set(Suggestion.objects.filter(job=job).values_list("image_id", flat=True)) == {untouched.pk}


def test_a_new_prelabel_of_an_image_supersedes_the_undecided_ones(team, api, image, engine):
    first = run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    kept = Suggestion.objects.filter(job=first).first()
    api(team.inspector).post(f"/api/v1/suggestions/{kept.pk}/reject/")
    # when
    second = run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    # then: the inspector sees only the new ones; the decided one keeps its decision
    listed = api(team.inspector).get(f"/api/v1/images/{image.pk}/suggestions/").json()
    assert {row["id"] for row in listed} == set(Suggestion.objects.filter(job=second).values_list("pk", flat=True))
    assert SuggestionDecision.objects.get().suggestion_id == kept.pk


def test_the_inspector_lists_accepts_and_deletes_suggestions(team, api, image, engine):
    # given
    run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    listed = api(team.inspector).get(f"/api/v1/images/{image.pk}/suggestions/").json()
    assert len(listed) == 2
    first, second = listed
    suggestion = Suggestion.objects.get(pk=first["id"])
    assert first == {
        "id": suggestion.pk,
        "image_id": image.pk,
        "defect_class_id": team.defect_class.pk,
        "engine": engine,
        "score": suggestion.score,
        "geometry": suggestion.geometry,
        "vertex_count": 4,
        "created_at": first["created_at"],
    }
    # when: accept one, delete the other
    accepted = api(team.inspector).post(f"/api/v1/suggestions/{first['id']}/accept/", {}, format="json")
    deleted = api(team.inspector).post(f"/api/v1/suggestions/{second['id']}/reject/")
    # then: the accepted one is the inspector's own annotation, with its provenance
    assert accepted.status_code == 201, accepted.json()
    annotation = Annotation.objects.get()
    assert accepted.json()["id"] == annotation.pk
    assert (annotation.author, annotation.source, annotation.is_final) == (
        team.inspector,
        AnnotationSource.MODEL,
        False,
    )
    assert annotation.geometry == suggestion.geometry
    assert annotation.provenance == {
        "engine": engine,
        "score": suggestion.score,
        "suggestion_id": suggestion.pk,
        "job_id": suggestion.job_id,
    }
    assert deleted.json() == {"id": second["id"], "decision": "rejected"}
    decisions = set(SuggestionDecision.objects.values_list("suggestion_id", "decision", "annotation_id"))
    assert decisions == {
        (first["id"], DecisionKind.ACCEPTED, annotation.pk),
        (second["id"], DecisionKind.REJECTED, None),
    }
    assert api(team.inspector).get(f"/api/v1/images/{image.pk}/suggestions/").json() == []
    # and deciding again is a conflict, not a second annotation
    again = api(team.inspector).post(f"/api/v1/suggestions/{first['id']}/accept/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "suggestion_decided")
    assert Annotation.objects.count() == 1


def test_each_annotator_decides_for_their_own_work(team, api, image, engine):
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.senior, assigned_by=team.senior)
    run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    suggestion = Suggestion.objects.first()
    api(team.inspector).post(f"/api/v1/suggestions/{suggestion.pk}/reject/")
    assert len(api(team.senior).get(f"/api/v1/images/{image.pk}/suggestions/").json()) == 2
    assert api(team.senior).post(f"/api/v1/suggestions/{suggestion.pk}/accept/", {}, format="json").status_code == 201


def test_suggestions_are_hidden_like_the_image_and_closed_with_submitted_work(team, api, image, engine):
    run(prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk]))
    suggestion = Suggestion.objects.first()
    assert api(team.outsider).get(f"/api/v1/images/{image.pk}/suggestions/").status_code == 404
    assert api(team.outsider).post(f"/api/v1/suggestions/{suggestion.pk}/accept/", {}).status_code == 404
    assert api(team.ml_engineer).post(f"/api/v1/suggestions/{suggestion.pk}/reject/").status_code == 403
    assignment_submit(image=image, annotator=team.inspector)
    closed = api(team.inspector).post(f"/api/v1/suggestions/{suggestion.pk}/accept/", {}, format="json")
    assert (closed.status_code, closed.json()["code"]) == (409, "already_submitted")
    assert SuggestionDecision.objects.count() == 0
