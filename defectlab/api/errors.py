"""One exception handler for the whole API: DomainError -> status + {code, message, ...details}.

An app whose error carries more than plain details (the annotation conflict carries the current annotation)
registers a body for it with `error_body`; the handler itself knows no app."""

import logging
from collections.abc import Callable
from typing import Any

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from defectlab.database_unavailable import BODY as DATABASE_UNAVAILABLE_BODY
from defectlab.database_unavailable import RETRY_AFTER_SECONDS, is_database_unavailable
from defectlab.errors import DomainError

logger = logging.getLogger(__name__)
ErrorBody = Callable[[DomainError], dict[str, Any]]
_BODIES: dict[type[DomainError], ErrorBody] = {}


def error_body(error_class: type[DomainError]) -> Callable[[ErrorBody], ErrorBody]:
    """Register the JSON body of one DomainError subclass (code and message are added by the handler)."""

    def register(build: ErrorBody) -> ErrorBody:
        _BODIES[error_class] = build
        return build

    return register


def _message(detail: object) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def _domain_body(error: DomainError) -> dict[str, Any]:
    for error_class in type(error).__mro__:
        if error_class in _BODIES:
            return _BODIES[error_class](error)
    return {key: value for key, value in error.details.items() if value is not None}


def exception_handler(error: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_unavailable(error):  # not a bug: the same request works once the database answers again
        logger.warning("database unavailable: %s", error, exc_info=error)
        return Response(DATABASE_UNAVAILABLE_BODY, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(error, DomainError):
        return Response({"code": error.code, "message": error.message, **_domain_body(error)}, status=error.status)
    if isinstance(error, Http404):
        return Response({"code": "not_found", "message": "Not found."}, status=404)
    response = drf_exception_handler(error, context)
    if response is not None and isinstance(error, exceptions.APIException):
        code = error.get_codes() if not isinstance(error, exceptions.ValidationError) else "invalid"
        response.data = {
            "code": code if isinstance(code, str) else "invalid",
            "message": _message(error.detail),
            **({"errors": error.detail} if isinstance(error, exceptions.ValidationError) else {}),
        }
    return response
