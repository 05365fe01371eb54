"""The project page's counts (images per status, defect-free, final annotations per class) are sums of the count
changes the database's triggers append, so every write path keeps them, and compaction changes no sum."""

import pytest
from django.db.models import Count, Q

from annotation.models import (
    Annotation,
    DefectClass,
    FinalAnnotationCountChange,
    Image,
    ImageCountChange,
    ImageStatus,
    Project,
)
from annotation.selectors import defect_class_list_for_project, image_status_counts
from annotation.services.annotations import annotation_delete
from annotation.services.counts import counts_compact
from annotation.services.images import assignment_submit
from annotation.tests.editing import assign, create_square
from tests.factories import DefectClassFactory, ProjectFactory, image_create


def counted(project: Project) -> dict[str, int]:
    """The counts as a COUNT over the rows: what the sums must equal."""
    counts = {status: Count("id", filter=Q(status=status)) for status in ImageStatus.values}
    counts["defect_free"] = Count("id", filter=Q(is_defect_free=True))
    return Image.objects.filter(project=project).aggregate(**counts)


def final_counted(project: Project) -> dict[str, int]:
    return {
        defect_class.name: Annotation.objects.filter(defect_class=defect_class, is_final=True).count()
        for defect_class in DefectClass.objects.filter(project=project)
    }


def final_summed(project: Project) -> dict[str, int]:
    return {
        defect_class.name: defect_class.annotation_count  # type: ignore[attr-defined]  # annotated by the selector
        for defect_class in defect_class_list_for_project(project=project)
    }


@pytest.mark.django_db
def test_counts_follow_every_write_path(team):
    # given: images made by ingestion, moved by the services, and by bulk and row updates outside them
    images = [image_create(project=team.project, seed=seed) for seed in range(5)]
    assign(team, images[:3])
    square = create_square(team.inspector, images[0], team.defect_class)
    assignment_submit(image=images[0], annotator=team.inspector)
    Image.objects.filter(pk__in=[images[3].pk, images[4].pk]).update(status=ImageStatus.FINAL, is_defect_free=True)
    images[4].status = ImageStatus.IN_REVIEW
    images[4].save(update_fields=["status"])
    other_class = DefectClassFactory.create(project=team.project, name="stain")
    Annotation.objects.filter(pk=square.pk).update(is_final=True)
    Annotation.objects.bulk_create(
        [Annotation(**{**_fields(square), "is_final": True, "defect_class_id": other_class.pk}) for _ in range(3)]
    )
    Annotation.objects.filter(defect_class=other_class).first().delete()
    moved = Annotation.objects.filter(defect_class=other_class).first()
    moved.defect_class = team.defect_class
    moved.save(update_fields=["defect_class"])
    images[2].delete()
    # when
    counts = image_status_counts(user=team.senior, role="senior", project=team.project)
    # then
    assert (
        counts
        == counted(team.project)
        == {
            "new": 0,
            "assigned": 1,
            "in_progress": 0,
            "submitted": 1,
            "in_review": 1,
            "final": 1,
            "defect_free": 2,
        }
    )
    assert final_summed(team.project) == final_counted(team.project) == {"crack": 2, "stain": 1}


@pytest.mark.django_db
def test_deleting_a_final_annotation_through_its_service_lowers_its_class_count(team):
    # given
    image = image_create(project=team.project, seed=1)
    assign(team, [image], annotator=team.senior)
    square = create_square(team.senior, image, team.defect_class)
    Annotation.objects.filter(pk=square.pk).update(is_final=True)
    assert final_summed(team.project)["crack"] == 1
    # when
    annotation_delete(user=team.senior, annotation_id=square.pk, expected_revision=1)
    # then
    assert final_summed(team.project) == final_counted(team.project) == {"crack": 0}


@pytest.mark.django_db
def test_an_inspector_counts_their_own_images_only(team):
    # given
    images = [image_create(project=team.project, seed=seed) for seed in range(3)]
    assign(team, images[:1])
    # when
    counts = image_status_counts(user=team.inspector, role="inspector", project=team.project)
    # then
    assert (counts["assigned"], counts["new"]) == (1, 0)


@pytest.mark.django_db
def test_compaction_folds_the_changes_and_changes_no_count(team, django_assert_max_num_queries):
    # given: many statements, each adding its own changes; and a deleted project's leftovers
    images = [image_create(project=team.project, seed=seed) for seed in range(4)]
    for image in images:
        assign(team, [image])
    gone = ProjectFactory.create(name="Gone", slug="gone")
    image_create(project=gone, seed=9)
    gone_id = gone.pk
    Image.objects.filter(project=gone).delete()
    Project.objects.filter(pk=gone_id).delete()
    before = image_status_counts(user=team.senior, role="senior", project=team.project)
    rows_before = ImageCountChange.objects.count()
    # when
    with django_assert_max_num_queries(6):  # a count and a fold per table, and the savepoint around them
        compacted = counts_compact()
    # then: one row per key of existing projects, the same sums
    assert image_status_counts(user=team.senior, role="senior", project=team.project) == before
    assert (compacted.image_rows_before, compacted.image_rows_after) == (rows_before, 1)
    assert list(ImageCountChange.objects.values_list("project_id", "status", "is_defect_free", "images")) == [
        (team.project.pk, "assigned", False, 4)
    ]
    assert not ImageCountChange.objects.filter(project_id=gone_id).exists()
    assert FinalAnnotationCountChange.objects.count() == compacted.final_annotation_rows_after == 0


def _fields(annotation: Annotation) -> dict:
    return {
        field.attname: getattr(annotation, field.attname)
        for field in Annotation._meta.concrete_fields
        if field.attname not in ("id", "created_at", "updated_at")
    }
