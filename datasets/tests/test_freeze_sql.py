"""The annotations' manifest JSON that PostgreSQL builds for a freeze (freeze_annotation_json) is, byte for byte,
what the freeze writes from rows in Python (manifest_annotation_json), so a version's content hash does not depend
on which of the two wrote it; what PostgreSQL might spell otherwise is left to the rows."""

import json

import pytest

from annotation.models import Annotation, AnnotationSource, Image
from datasets.manifest import manifest_annotation_json, rle_json
from datasets.selectors import FreezeFilter, freeze_annotation_json, freeze_annotation_rows
from datasets.services import versions
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from datasets.tests.version_data import labelled_image, ring, square
from tests.factories import DefectClassFactory, SeverityLevelFactory

EVERY_ANNOTATION = FreezeFilter(
    defect_classes=None, image_statuses=("final",), final_annotations_only=False, include_defect_free=True
)
ODD_NAME = 'hair "crack" \\ \u00e9\u65e5\n\t\x01\x1f\x7f \u2028 \U0001f600'
# Floats PostgreSQL and Python spell alike (written by PostgreSQL), and ones they may not (left to the rows).
ALIKE_FLOATS = (0.1, 123.456, 2.5, 1e-4, 999999999999999.9, 1e14, -0.0)
UNALIKE_FLOATS = (1e-05, 1e15, 1e16, 2.5e-07, 5e-324, 1.7976931348623157e308)


@pytest.fixture
def odd(team):
    """Images whose annotations carry odd class, severity and source strings, odd floats and RLE spellings."""
    odd_class = DefectClassFactory.create(project=team.project, name=ODD_NAME)
    odd_severity = SeverityLevelFactory.create(defect_class=odd_class, name=ODD_NAME[::-1], rank=7)
    images = []
    for index in range(len(ALIKE_FLOATS) + len(UNALIKE_FLOATS) + 3):
        defect_class = odd_class if index % 2 else team.defect_class
        shapes = [ring(5, 5, 9), square(20, 20, 3)] if index % 3 == 0 else [square(2 + index, 4, 5)]
        images.append(labelled_image(team.project, defect_class, seed=index, name=f"part{index}.png", shapes=shapes))
    annotations = list(Annotation.objects.filter(image__project=team.project).order_by("image_id", "id"))
    firsts = {annotation.image_id: annotation for annotation in reversed(annotations)}
    ordered = [firsts[image.pk] for image in images]
    for annotation, value in zip(ordered, ALIKE_FLOATS + UNALIKE_FLOATS, strict=False):
        Annotation.objects.filter(pk=annotation.pk).update(
            area_px=value, bbox_y=-value, severity=odd_severity if annotation.defect_class_id == odd_class.pk else None
        )
    rest = ordered[len(ALIKE_FLOATS) + len(UNALIKE_FLOATS) :]
    Annotation.objects.filter(pk=rest[0].pk).update(outline=None, is_final=False)  # work in progress: traced
    Annotation.objects.filter(pk=rest[1].pk).update(rle={**rest[1].rle, "note": 1})  # an RLE with another key
    Annotation.objects.filter(pk=rest[2].pk).update(source=AnnotationSource.MODEL)
    unalike = {annotation.image_id for annotation in ordered[len(ALIKE_FLOATS) : len(ALIKE_FLOATS) + 6]}
    return team, images, unalike | {rest[0].image_id, rest[1].image_id}


def rows_json(rows: list[dict]) -> str:
    """The freeze's own writing of an image's annotation rows (datasets/services/versions.py)."""
    return ",".join(
        manifest_annotation_json(row, rle_json=rle_json(row["rle_text"]), outline=row["outline"]) for row in rows
    )


@pytest.mark.django_db
def test_postgresql_writes_each_annotation_as_the_rows_would_be_written(odd):
    # given
    team, images, unalike = odd
    image_ids = [image.pk for image in images]
    # when
    built, unbuilt = freeze_annotation_json(image_ids=image_ids, selection=EVERY_ANNOTATION)
    # then: only the images with an annotation PostgreSQL might spell otherwise are left to the rows
    assert sorted(unbuilt) == sorted(unalike)
    assert sorted(built) == sorted(set(image_ids) - unalike)
    rows = freeze_annotation_rows(image_ids=sorted(built), selection=EVERY_ANNOTATION)
    for image_id, (text, classes) in built.items():
        image_rows = [row for row in rows if row["image_id"] == image_id]
        assert text == rows_json(image_rows)
        assert classes == [row["defect_class__name"] for row in image_rows]
        assert json.loads(f"[{text}]")  # valid JSON, odd strings and all


@pytest.mark.django_db
def test_the_selection_applies_to_what_postgresql_writes(odd):
    # given
    team, images, _ = odd
    only_crack = FreezeFilter(
        defect_classes=("crack",), image_statuses=("final",), final_annotations_only=True, include_defect_free=True
    )
    # when
    built, unbuilt = freeze_annotation_json(image_ids=[image.pk for image in images], selection=only_crack)
    # then
    expected = Annotation.objects.filter(image__in=images, defect_class__name="crack", is_final=True)
    assert {classes for _, classes in built.values() for classes in classes} == {"crack"}
    assert (
        sum(len(classes) for _, classes in built.values())
        + len(freeze_annotation_rows(image_ids=unbuilt, selection=only_crack))
        == expected.count()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("final_annotations_only", [True, False])
def test_a_version_hashes_alike_whether_postgresql_or_python_wrote_its_annotations(
    odd, monkeypatch, final_annotations_only
):
    # given
    team, _, _ = odd
    options = FreezeOptions(final_annotations_only=final_annotations_only, keep_previous_splits=False)
    with_sql = dataset_version_freeze(project=team.project, name="sql", created_by=None, options=options)
    # when: every image written from its rows, as before PostgreSQL wrote them
    monkeypatch.setattr(versions, "freeze_annotation_json", lambda *, image_ids, selection: ({}, list(image_ids)))
    from_rows = dataset_version_freeze(project=team.project, name="rows", created_by=None, options=options)
    # then
    assert with_sql.content_hash == from_rows.content_hash
    assert with_sql.counts == from_rows.counts
    assert from_rows.diff["images"] == {"added": 0, "removed": 0, "changed": 0}
    assert from_rows.diff["annotations"] == {"added": 0, "removed": 0, "changed": 0}
    selected = Annotation.objects.filter(is_final=True) if final_annotations_only else Annotation.objects.all()
    labelled = Image.objects.filter(project=team.project, annotations__in=selected).distinct()
    assert with_sql.counts["images"]["total"] == labelled.count() == 16 - final_annotations_only
