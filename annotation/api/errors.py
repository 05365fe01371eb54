"""One exception handler for the whole API: DomainError -> status + {code, message, ...details}."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from annotation.api.serializers import AnnotationOutput
from annotation.errors import AnnotationConflict, DomainError


def _message(detail: object) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def exception_handler(error: Exception, context: dict) -> Response | None:
    if isinstance(error, AnnotationConflict):
        # The editor shows the user's version beside this one: the whole current annotation, or null when someone
        # deleted it (then current_revision is null too).
        current = AnnotationOutput(error.current).data if error.current is not None else None
        body = {"code": error.code, "message": error.message, "current_revision": error.current_revision}
        return Response({**body, "current": current}, status=error.status)
    if isinstance(error, DomainError):
        body = {"code": error.code, "message": error.message}
        body.update({key: value for key, value in error.details.items() if value is not None})
        return Response(body, status=error.status)
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
