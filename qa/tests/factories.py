"""Builders for QA tests: dual-annotated images with real annotations made through annotation's services."""

from annotation.models import Image, Membership, Role
from annotation.services.annotations import annotation_create
from annotation.services.images import assignment_submit, assignments_create
from qa.services.agreements import image_submitted
from tests.factories import UserFactory, image_create


def square(*, x: int, y: int = 10, side: int = 10) -> dict:
    """A side x side block of pixels with its top-left pixel at (x, y)."""
    right, bottom = x + side - 1, y + side - 1
    return {"polygons": [{"exterior": [[x, y], [right, y], [right, bottom], [x, bottom]]}]}


def second_inspector(team, username: str = "inspector2"):
    user = UserFactory.create(username=username)
    Membership.objects.create(project=team.project, user=user, role=Role.INSPECTOR)
    return user


def assigned_image(team, *annotators, seed: int = 1) -> Image:
    image = image_create(project=team.project, seed=seed, name=f"part-{seed}.png")
    for annotator in annotators:
        assignments_create(project=team.project, image_ids=[image.pk], annotator=annotator, assigned_by=team.senior)
    return image


def annotate(user, image: Image, geometry: dict, *, defect_class=None, severity=None):
    return annotation_create(
        user=user,
        image_id=image.pk,
        defect_class_id=(defect_class or _default_class(image)).pk,
        geometry_data=geometry,
        severity_id=severity.pk if severity else None,
    )


def _default_class(image: Image):
    return image.project.defect_classes.order_by("id").first()


def submit_all(image: Image, *annotators) -> None:
    """Each annotator submits; then what the worker does on commit runs here (tests run inside a transaction)."""
    for annotator in annotators:
        assignment_submit(image=image, annotator=annotator)
    image_submitted(image_id=image.pk)
