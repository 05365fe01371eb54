"""Taxonomy changes flag the final annotations they affect for re-review instead of changing them silently."""

import pytest

from annotation.geometry import polygons_from_json
from annotation.models import Annotation, DefectClass, Project
from annotation.services.annotations import ImportedDefect, annotations_import
from annotation.services.projects import (
    defect_class_merge,
    defect_class_split,
    defect_class_update,
    project_calibrate,
)
from qa.models import ReReview, ReReviewChange, ReReviewStatus
from qa.services.re_reviews import re_review_resolve, re_reviews_flag
from qa.tasks import taxonomy_change_review_task
from qa.tests.factories import square
from tests.factories import DefectClassFactory, image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def finals(team):
    """Two final cracks: 10x10 and 4x4 pixels."""
    image = image_create(project=team.project, seed=3)
    defects = [
        ImportedDefect(
            defect_class=team.defect_class,
            polygons=polygons_from_json(square(x=x, side=side), width=image.width, height=image.height),
        )
        for x, side in ((5, 10), (30, 4))
    ]
    return annotations_import(image=image, defects=defects, author=None)


def run(sent_events) -> list[ReReview]:
    """Run what the worker would: the re-review task with the kwargs annotation sent."""
    flags = []
    for name, kwargs in sent_events:
        assert name == taxonomy_change_review_task.name
        flags += re_reviews_flag(**kwargs)
    return flags


def test_a_rename_flags_every_final_annotation_of_the_class(
    team, finals, sent_events, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        defect_class_update(defect_class=team.defect_class, actor=team.admin, name="hairline crack")
    flags = run(sent_events)
    # then
    assert sorted((flag.annotation_id, flag.change) for flag in flags) == [
        (finals[0].pk, ReReviewChange.RENAMED),
        (finals[1].pk, ReReviewChange.RENAMED),
    ]
    assert (flags[0].details["before"]["name"], flags[0].details["after"]["name"]) == ("crack", "hairline crack")
    assert Annotation.objects.get(pk=finals[0].pk).revision == 1  # nothing changed silently


def test_a_larger_minimum_size_flags_only_the_annotations_now_below_it(
    team, finals, sent_events, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        defect_class_update(defect_class=team.defect_class, actor=team.admin, min_area_px=50)
    flags = run(sent_events)
    # then
    assert [(flag.annotation_id, flag.change, flag.details["reasons"]) for flag in flags] == [
        (finals[1].pk, ReReviewChange.MIN_SIZE_CHANGED, ["area 16 px² is below the minimum 50 px²"])
    ]


def test_a_new_calibration_flags_the_finals_now_below_a_mm_minimum_and_only_in_classes_with_one(
    team, finals, sent_events, django_capture_on_commit_callbacks
):
    # given: at 2 px/mm the crack minimum of 1 mm² is 4 px², which both cracks pass; "stain" has a px minimum that
    # its 10x10 final annotation misses, which a calibration does not change
    Project.objects.filter(pk=team.project.pk).update(px_per_mm=2)
    team.project.refresh_from_db()
    DefectClass.objects.filter(pk=team.defect_class.pk).update(min_area_mm2=1.0)
    stain = DefectClassFactory.create(project=team.project, name="stain")
    image = image_create(project=team.project, seed=4)
    annotations_import(
        image=image,
        defects=[
            ImportedDefect(
                defect_class=stain,
                polygons=polygons_from_json(square(x=5, side=10), width=image.width, height=image.height),
            )
        ],
        author=None,
    )
    DefectClass.objects.filter(pk=stain.pk).update(min_area_px=200)
    # when: at 8 px/mm, 1 mm² is 64 px²
    with django_capture_on_commit_callbacks(execute=True):
        project_calibrate(project=team.project, actor=team.admin, px_per_mm=8)
    flags = run(sent_events)
    # then
    assert [(flag.annotation_id, flag.change, flag.details["reasons"]) for flag in flags] == [
        (
            finals[1].pk,
            ReReviewChange.MIN_SIZE_CHANGED,
            ["area 16 px² (0.25 mm²) is below the minimum 64 px² (1 mm²)"],
        )
    ]
    assert (flags[0].details["before"]["px_per_mm"], flags[0].details["after"]["px_per_mm"]) == (2.0, 8.0)
    assert Annotation.objects.get(pk=finals[1].pk).revision == 1  # nothing changed silently


def test_a_description_change_flags_nothing(team, finals, sent_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        defect_class_update(defect_class=team.defect_class, actor=team.admin, description="A fracture line")
    assert sent_events == []


def test_a_merge_retires_the_class_and_the_resolution_relabels_through_annotation(
    team, finals, sent_events, django_capture_on_commit_callbacks
):
    # given
    fracture = DefectClassFactory.create(project=team.project, name="fracture")
    with django_capture_on_commit_callbacks(execute=True):
        defect_class_merge(source=team.defect_class, target=fracture, actor=team.admin)
    flags = run(sent_events)
    # when
    resolved = re_review_resolve(
        user=team.senior, re_review_id=flags[0].pk, resolution="same thing", defect_class_id=fracture.pk
    )
    # then
    assert DefectClass.objects.get(pk=team.defect_class.pk).is_active is False
    assert [flag.change for flag in flags] == [ReReviewChange.MERGED, ReReviewChange.MERGED]
    assert flags[0].details["after"]["merged_into"] == {"id": fracture.pk, "name": "fracture"}
    relabelled = Annotation.objects.get(pk=finals[0].pk)
    assert (relabelled.defect_class_id, relabelled.revision, resolved.status) == (
        fracture.pk,
        2,
        ReReviewStatus.RESOLVED,
    )


def test_a_split_creates_the_new_classes_and_flags_the_old_ones_annotations(
    team, finals, sent_events, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        created = defect_class_split(defect_class=team.defect_class, into=["surface crack", "deep crack"], actor=None)
    flags = run(sent_events)
    # then
    assert [(c.name, list(c.severity_levels.values_list("name", flat=True))) for c in created] == [
        ("surface crack", ["minor"]),
        ("deep crack", ["minor"]),
    ]
    assert [flag.change for flag in flags] == [ReReviewChange.SPLIT, ReReviewChange.SPLIT]
    assert [item["name"] for item in flags[0].details["after"]["split_into"]] == ["surface crack", "deep crack"]


def test_flagging_twice_does_not_duplicate(team, finals):
    # when
    first = re_reviews_flag(defect_class_id=team.defect_class.pk, changes=["renamed"], before={}, after={})
    second = re_reviews_flag(defect_class_id=team.defect_class.pk, changes=["renamed"], before={}, after={})
    # then
    assert (len(first), len(second)) == (2, 0)


def test_re_review_queue_is_for_reviewers(team, api, finals):
    # given
    re_reviews_flag(defect_class_id=team.defect_class.pk, changes=["renamed"], before={}, after={})
    path = f"/api/v1/projects/{team.project.pk}/qa/re-reviews/"
    # when
    senior, inspector = api(team.senior).get(path), api(team.inspector).get(path)
    # then
    assert [item["annotation_id"] for item in senior.json()["results"]] == [finals[0].pk, finals[1].pk]
    assert inspector.status_code == 403


def test_merging_through_the_api_flags_the_final_annotations_for_re_review(
    team, api, finals, sent_events, django_capture_on_commit_callbacks
):
    # given
    fracture = DefectClassFactory.create(project=team.project, name="fracture")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.admin).post(
            f"/api/v1/defect-classes/{team.defect_class.pk}/merge/", {"into_defect_class_id": fracture.pk}
        )
    flags = run(sent_events)
    # then
    assert response.status_code == 200, response.json()
    assert sorted((flag.annotation_id, flag.change, flag.status) for flag in flags) == [
        (finals[0].pk, ReReviewChange.MERGED, ReReviewStatus.OPEN),
        (finals[1].pk, ReReviewChange.MERGED, ReReviewStatus.OPEN),
    ]
    assert {flag.details["after"]["merged_into"]["id"] for flag in flags} == {fracture.pk}
    assert list(
        Annotation.objects.filter(pk__in=[a.pk for a in finals]).values_list("defect_class_id", "revision")
    ) == [
        (team.defect_class.pk, 1),
        (team.defect_class.pk, 1),
    ]  # flagged, not relabelled


def test_splitting_through_the_api_flags_the_final_annotations_for_re_review(
    team, api, finals, sent_events, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.admin).post(
            f"/api/v1/defect-classes/{team.defect_class.pk}/split/", {"into": ["surface crack", "deep crack"]}
        )
    flags = run(sent_events)
    # then
    assert response.status_code == 201, response.json()
    assert sorted((flag.annotation_id, flag.change) for flag in flags) == [
        (finals[0].pk, ReReviewChange.SPLIT),
        (finals[1].pk, ReReviewChange.SPLIT),
    ]
    queue = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/qa/re-reviews/").json()["results"]
    assert [(item["annotation_id"], item["change"]) for item in queue] == [
        (finals[0].pk, "split"),
        (finals[1].pk, "split"),
    ]
