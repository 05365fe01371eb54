"""Helpers shared by the editor API tests."""

from annotation.models import Annotation
from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from annotation.tests.test_api_contract import TIMESTAMP

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}
SQUARE_STORED = {"polygons": [{"exterior": [[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]], "holes": []}]}


def assign(team, images, annotator=None) -> None:
    assignments_create(
        project=team.project,
        image_ids=[image.pk for image in images],
        annotator=annotator or team.inspector,
        assigned_by=team.admin,
    )


def annotation_body(annotation: Annotation, **changes) -> dict:
    """AnnotationOutput of a square drawn by `create_square`, timestamps blanked."""
    return {
        "id": annotation.pk,
        "image_id": annotation.image_id,
        "defect_class_id": annotation.defect_class_id,
        "severity_id": annotation.severity_id,
        "geometry": SQUARE_STORED,
        "area_px": 121.0,
        "bbox": [10.0, 10.0, 11.0, 11.0],
        "source": "manual",
        "provenance": None,
        "author_id": annotation.author_id,
        "is_final": False,
        "revision": 1,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        **changes,
    }


def create_square(user, image, defect_class, severity=None) -> Annotation:
    return annotation_create(
        user=user,
        image_id=image.pk,
        defect_class_id=defect_class.pk,
        severity_id=severity.pk if severity else None,
        geometry_data=SQUARE,
    )


# image-editor
