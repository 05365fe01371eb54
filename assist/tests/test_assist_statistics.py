"""The assist's statistics: what inspectors did with each suggestion (kept unchanged, edited, deleted), IoU of
suggestion vs final, time per image with and without the assist; per class and per engine; JSON and CSV."""

from datetime import timedelta

import pytest

from annotation.models import Assignment
from annotation.services.annotations import annotation_create, annotation_delete, annotation_save
from annotation.services.images import assignment_submit, assignments_create
from assist.models import ImageVisit, Suggestion
from assist.services.assist import AssistPrompt, assist_run
from assist.services.prelabels import prelabels_start
from assist.services.suggestions import image_visit_record, suggestion_accept, suggestion_reject
from assist.statistics import rle_iou, vertex_changes
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create
from defectlab.jobs.services import job_run

pytestmark = pytest.mark.django_db

SPOTS = [(10, 10, 8), (40, 10, 8), (70, 10, 8), (20, 50, 10), (60, 50, 10)]


def assisted(user, image, box) -> tuple[Suggestion, object]:
    """Ask the classical engine about `box` and keep its answer, as the editor's assist box tool does."""
    answer = assist_run(
        user=user,
        image_id=image.pk,
        prompt=AssistPrompt(defect_class_id=image.project.defect_classes.first().pk, box=box),
    )
    suggestion = answer.suggestion
    assert suggestion is not None
    annotation = annotation_create(
        user=user,
        image_id=image.pk,
        defect_class_id=suggestion.defect_class_id,
        geometry_data=suggestion.geometry,
        source="assisted",
        provenance={
            "engine": "classical",
            "prompt": suggestion.prompt,
            "score": suggestion.score,
            "suggestion_id": suggestion.pk,
        },
    )
    return suggestion, annotation


def worked(user, image, *, seconds: int) -> None:
    """The user opened the image, worked `seconds` and submitted it."""
    image_visit_record(user=user, image_id=image.pk)
    assignment_submit(image=image, annotator=user)
    opened = ImageVisit.objects.get(user=user, image=image).opened_at
    Assignment.objects.filter(image=image, annotator=user).update(submitted_at=opened + timedelta(seconds=seconds))


@pytest.fixture
def images(team):
    made = [spotted_image_create(project=team.project, spots=SPOTS, seed=seed, name=f"{seed}.png") for seed in range(4)]
    for image in made:
        assignments_create(
            project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior
        )
    return made


@pytest.fixture
def scenario(team, images):
    """Image 0: three assists kept unchanged, edited and deleted. Image 1: two pre-labels, one accepted, one
    deleted. Image 2: drawn by hand. Image 3: an assist, but not submitted yet (not counted)."""
    assisted_image, prelabelled, by_hand, unsettled = images
    _, unchanged = assisted(team.inspector, assisted_image, (6, 6, 21, 21))
    edited_suggestion, edited = assisted(team.inspector, assisted_image, (36, 6, 51, 21))
    moved = {"polygons": [{"exterior": [[40, 10], [40, 19], [49, 19], [49, 10]], "holes": []}]}
    edited = annotation_save(
        user=team.inspector, annotation_id=edited.pk, expected_revision=edited.revision, geometry_data=moved
    )
    _, deleted = assisted(team.inspector, assisted_image, (66, 6, 81, 21))
    annotation_delete(user=team.inspector, annotation_id=deleted.pk, expected_revision=deleted.revision)
    worked(team.inspector, assisted_image, seconds=60)
    with prelabel_engine.registered():
        job_run(job_id=prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[prelabelled.pk]).pk)
    first, second, *_ = Suggestion.objects.filter(image=prelabelled).order_by("id")
    suggestion_accept(user=team.inspector, suggestion_id=first.pk)
    suggestion_reject(user=team.inspector, suggestion_id=second.pk)
    worked(team.inspector, prelabelled, seconds=100)
    annotation_create(
        user=team.inspector,
        image_id=by_hand.pk,
        defect_class_id=team.defect_class.pk,
        geometry_data={"polygons": [{"exterior": [[10, 10], [17, 10], [17, 17], [10, 17]]}]},
    )
    worked(team.inspector, by_hand, seconds=300)
    assisted(team.inspector, unsettled, (6, 6, 21, 21))
    return {
        "edited_suggestion": edited_suggestion,
        "edited": edited,
        "prelabels": Suggestion.objects.filter(image=prelabelled).count(),
    }


def group(*, suggestions, unchanged, edited, deleted, mean_iou, mean_vertex_changes):
    return {
        "suggestions": suggestions,
        "unchanged": unchanged,
        "edited": edited,
        "deleted": deleted,
        "acceptance_rate": (unchanged + edited) / suggestions,
        "unchanged_rate": unchanged / suggestions,
        "mean_iou": pytest.approx(mean_iou),
        "mean_vertex_changes": mean_vertex_changes,
    }


def test_accepted_edited_and_deleted_suggestions_are_counted_per_class_and_engine(team, api, scenario):
    # given: what the edit did to its suggestion
    suggestion, edited = scenario["edited_suggestion"], scenario["edited"]
    edited_iou = rle_iou(suggestion.rle, edited.rle)
    edited_changes = vertex_changes(suggestion.geometry, edited.geometry)
    assert 0 < edited_iou < 1
    assert edited_changes > 0
    undecided = scenario["prelabels"] - 2  # the engine found every spot; the inspector decided two
    # when
    response = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/assist/statistics/")
    # then
    assert response.status_code == 200
    body = response.json()
    classical = group(
        suggestions=3,
        unchanged=1,
        edited=1,
        deleted=1,
        mean_iou=(1 + edited_iou) / 2,
        mean_vertex_changes=edited_changes,
    )
    prelabels = group(
        suggestions=2 + undecided,
        unchanged=1,
        edited=0,
        deleted=1 + undecided,
        mean_iou=1.0,
        mean_vertex_changes=None,
    )
    assert body["engines"] == [{"engine": "classical", **classical}, {"engine": "test-dark-spots", **prelabels}]
    assert body["classes"] == [
        {
            "defect_class": "crack",
            **group(
                suggestions=5 + undecided,
                unchanged=2,
                edited=1,
                deleted=2 + undecided,
                mean_iou=(2 + edited_iou) / 3,
                mean_vertex_changes=edited_changes,
            ),
        }
    ]
    assert body["time_per_image"] == {
        "with_assist": {"images": 2, "median_seconds": 80.0, "mean_seconds": 80.0},
        "without_assist": {"images": 1, "median_seconds": 300.0, "mean_seconds": 300.0},
        "by_engine": [
            {"engine": "classical", "images": 1, "median_seconds": 60.0, "mean_seconds": 60.0},
            {"engine": "test-dark-spots", "images": 1, "median_seconds": 100.0, "mean_seconds": 100.0},
        ],
    }


def test_downloads_hold_the_same_rows(team, api, scenario):
    url = f"/api/v1/projects/{team.project.pk}/assist/statistics/"
    engines_csv = api(team.admin).get(url, {"download": "engines.csv"})
    assert engines_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert engines_csv["Content-Disposition"] == 'attachment; filename="tile-line-assist-engines.csv"'
    lines = engines_csv.content.decode().splitlines()
    assert lines[0] == (
        "engine,suggestions,unchanged,edited,deleted,acceptance_rate,unchanged_rate,mean_iou,mean_vertex_changes"
    )
    assert [line.split(",")[:5] for line in lines[1:]][0] == ["classical", "3", "1", "1", "1"]
    classes_csv = api(team.admin).get(url, {"download": "classes.csv"}).content.decode().splitlines()
    assert classes_csv[0].startswith("defect_class,suggestions,")
    assert classes_csv[1].startswith("crack,")
    as_json = api(team.admin).get(url, {"download": "statistics.json"})
    assert as_json["Content-Disposition"] == 'attachment; filename="tile-line-assist-statistics.json"'
    assert as_json.json() == api(team.admin).get(url).json()


@pytest.mark.parametrize(
    ("role", "status"), [("senior", 200), ("ml_engineer", 200), ("inspector", 403), ("outsider", 404)]
)
def test_statistics_are_for_reviewers_ml_engineers_and_admins(team, api, role, status):
    response = api(team.member(role)).get(f"/api/v1/projects/{team.project.pk}/assist/statistics/")
    assert response.status_code == status


def test_nothing_yet_gives_empty_tables(team, api):
    body = api(team.admin).get(f"/api/v1/projects/{team.project.pk}/assist/statistics/").json()
    empty = {"images": 0, "median_seconds": None, "mean_seconds": None}
    assert body == {
        "classes": [],
        "engines": [],
        "time_per_image": {"with_assist": empty, "without_assist": empty, "by_engine": []},
        "models": [],
    }


def test_the_first_opening_is_kept(team, api, images):
    image = images[0]
    first = api(team.inspector).post(f"/api/v1/images/{image.pk}/visits/")
    again = api(team.inspector).post(f"/api/v1/images/{image.pk}/visits/")
    assert first.status_code == 200
    assert again.json() == first.json()
    assert ImageVisit.objects.count() == 1
    assert api(team.outsider).post(f"/api/v1/images/{image.pk}/visits/").status_code == 404
    assert api(team.ml_engineer).post(f"/api/v1/images/{image.pk}/visits/").status_code == 403
