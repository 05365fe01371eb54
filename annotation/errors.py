"""The core domain's errors (defectlab/errors.py holds the shared base and the generic ones)."""

from typing import TYPE_CHECKING

from defectlab.errors import DomainError, ValidationFailed

if TYPE_CHECKING:
    from annotation.models import Annotation


class NoSuchAnnotator(ValidationFailed):
    """A username that names no one who may be given work in the project. Unknown users, deactivated ones and
    users without a labelling role there all get this same answer, so that whoever assigns work cannot probe
    which usernames exist on the site."""

    def __init__(self, usernames: list[str]):
        super().__init__(
            f"No annotator {', '.join(usernames)} in this project: name its inspectors, seniors or admins.",
            usernames=usernames,
        )


class DefectTooSmall(DomainError):
    code, status = "defect_too_small", 400


class GeometryTooComplex(DomainError):
    """Over a limit of the geometry budget (docs/architecture.md): `limit` names the setting, with the value it
    allows and the count that went over it."""

    code, status = "geometry_too_complex", 400

    def __init__(self, message: str, *, limit: str, allowed: int, actual: int):
        super().__init__(message, limit=limit, allowed=allowed, actual=actual)


class AnnotationConflict(DomainError):
    """Someone else saved (or deleted) the annotation since the revision the edit started from.

    Carries the current version as a model instance, or None when it was deleted, so the API can show the
    editor both versions without the service knowing how they are rendered."""

    code, status = "annotation_conflict", 409

    def __init__(self, message: str, *, current: "Annotation | None"):
        super().__init__(message)
        self.current = current
        self.current_revision = current.revision if current is not None else None


class ImageHasAnnotations(DomainError):
    """An image cannot be judged defect-free while the judge's own annotations say otherwise."""

    code, status = "has_annotations", 409


class AlreadySubmitted(DomainError):
    """An inspector's work on an image is closed once they submitted it, until a reviewer returns it to them."""

    code, status = "already_submitted", 409

    def __init__(
        self,
        message: str = "You submitted this image, so your work on it can no longer change; "
        "a reviewer can return it to you for changes.",
        **details: object,
    ):
        super().__init__(message, **details)
