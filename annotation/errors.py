"""Domain errors with a stable `code`; annotation/api/errors.py maps each to an HTTP status."""


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, **details: object):
        super().__init__(message)
        self.message, self.details = message, details


class NotFound(DomainError):
    """Also raised for another project's ids: existence is not disclosed across projects."""

    code, status = "not_found", 404


class PermissionDenied(DomainError):
    code, status = "permission_denied", 403


class ValidationFailed(DomainError):
    code, status = "invalid", 400


class DefectTooSmall(DomainError):
    code, status = "defect_too_small", 400


class InUse(DomainError):
    code, status = "in_use", 409


class AnnotationConflict(DomainError):
    code, status = "annotation_conflict", 409

    def __init__(self, message: str, *, current_revision: int, current: dict | None = None):
        super().__init__(message, current_revision=current_revision, current=current)
        self.current_revision = current_revision
