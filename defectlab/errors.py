"""The errors every app raises: DomainError subclasses with a stable `code`; defectlab/api/errors.py maps each to
its HTTP status and body. Apps add their own subclasses in their own errors.py."""


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


class InUse(DomainError):
    code, status = "in_use", 409


class TooLarge(DomainError):
    """The request body is over an endpoint's limit; refused before it is read. `limit` names the setting."""

    code, status = "too_large", 413
