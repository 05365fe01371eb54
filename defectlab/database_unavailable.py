"""A database that is down, restarting or cut off answers 503 with Retry-After, never 500.

A 500 says "a bug": the editor keeps the edit as refused and a person has to look. A lost connection, a database
that refuses connections while it restarts, a backend terminated by an administrator or a deadlock are not bugs:
the same request succeeds a few seconds later, and a 503 with Retry-After says exactly that (the editor's autosave
retries it with its backoff). Three places turn such an error into that answer:

- the DRF exception handler (defectlab/api/errors.py), for API views: JSON `{"code": "database_unavailable"}`;
- `DatabaseUnavailableMiddleware.process_exception`, for page views (and API views outside DRF);
- `server_error` (handler500), for errors raised in middleware (a session saved on the way out), which Django
  turns into its 500 answer before any middleware sees them.

Other database errors (a value out of range, a broken query) stay 500s: they are bugs to fix, not outages.
"""

import logging
import sys
from collections.abc import Callable

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # a restarting PostgreSQL takes a few seconds; the editor's backoff starts at 1 s
BODY = {
    "code": "database_unavailable",
    "message": "The database is not answering just now. Nothing was lost on this side; try again in a few seconds.",
    "retry_after_seconds": RETRY_AFTER_SECONDS,
}
PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Back in a moment</title>"
    "<h1>Back in a moment</h1><p>The database is not answering just now. Reload this page in a few seconds.</p>"
)
# SQLSTATE classes (PostgreSQL, appendix A) of errors that the same request gets past a few seconds later:
# connection exceptions, insufficient resources (too many connections), operator intervention (administrator
# shutdown, cannot connect now, statement cancelled), transaction rollback (deadlock, serialization failure) and
# lock not available. An error without a SQLSTATE had no answer from the server at all (connection refused or
# lost), or is SQLite's "database is locked".
TRANSIENT_SQLSTATES = ("08", "53", "57", "40", "55P03")
DATABASE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def is_database_unavailable(error: BaseException) -> bool:
    if not isinstance(error, DATABASE_ERRORS):
        return False
    driver_error = error if isinstance(error, psycopg.Error) else error.__cause__
    sqlstate = getattr(driver_error, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(TRANSIENT_SQLSTATES)


def _logged(request: HttpRequest, error: BaseException) -> None:
    logger.warning("database unavailable during %s %s: %s", request.method, request.path, error, exc_info=error)


def database_unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 with Retry-After: the API's JSON error body for /api/ paths, a short page for the rest."""
    _logged(request, error)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(BODY, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_unavailable_response(request, exception) if is_database_unavailable(exception) else None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, so sys.exc_info() is that exception."""
    error = sys.exc_info()[1]
    if error is not None and is_database_unavailable(error):
        return database_unavailable_response(request, error)
    return defaults.server_error(request)
