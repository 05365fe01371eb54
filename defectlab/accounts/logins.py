"""Login throttling on both login paths (the login page and POST /api/v1/auth/token/), through django-axes.

Failed logins are counted per username and, separately, per client address (defectlab/client_address.py),
over DEFECTLAB_LOGIN_LOCKOUT_SECONDS. A username is locked after DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME
failures, an address after DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS: higher, because several honest users may
share one address (a NAT, a terminal server) and one of them mistyping must not lock the others out. While
locked, even the right password is refused and each further try starts the wait again; an administrator lifts
a lock-out by deleting its access attempts (Django admin, Axes > Access attempts, or
`manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS`)."""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# AXES_LOCKOUT_PARAMETERS: one query set of attempts per entry, in this order (see LoginAttemptHandler).
LOCKOUT_PARAMETERS = ["username", "ip_address"]


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit of its own for the username and for the address (Axes has one limit
    for all; AXES_FAILURE_LIMIT is set to the larger one, so its own check never locks before this one)."""

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        by_username, by_address = self.get_user_attempts(request, credentials)
        return (
            _failures(by_username) >= settings.DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME
            or _failures(by_address) >= settings.DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # The failure that reaches a limit already answers "locked", as Axes does when its own limit is reached.
        if request is not None and not request.axes_locked_out and self.is_locked(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials


def lockout_message() -> str:
    minutes = max(1, round(settings.DEFECTLAB_LOGIN_LOCKOUT_SECONDS / 60))
    return (
        "Too many failed logins for this username or from this address. "
        f"Try again in {minutes} minutes, or ask an administrator to lift the lock-out."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The login page again, with the lock-out message and 429 (AXES_LOCKOUT_CALLABLE: Axes' middleware calls it
    when a page login was refused). The API path raises LoginLockedOut instead (services.api_token_obtain)."""
    context = {
        "form": AuthenticationForm(request),
        "lockout_message": lockout_message(),
        "next": request.POST.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)
