"""Writes of API tokens: make one (from a username and password, or for a known user), revoke one."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from defectlab.accounts.errors import LoginLockedOut, TokenCredentialsInvalid
from defectlab.accounts.logins import lockout_message
from defectlab.accounts.models import ApiToken
from defectlab.accounts.tokens import (
    PREFIX_CHARACTERS,
    password_fingerprint,
    password_fingerprints,
    token_digest,
    token_key_new,
)
from defectlab.client_address import client_address
from defectlab.errors import NotFound


@transaction.atomic
def api_token_create(
    *, user: User, name: str = "", created_from: str | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key. The key is returned here only: the database keeps its digest.

    The user's dead tokens (expired, or made before the last password change) are deleted here, and past
    DEFECTLAB_API_TOKENS_PER_USER live ones the oldest go too, so a script that asks for a token on every run
    cannot pile them up. The user's row is locked so that two requests at once keep that bound."""
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    now = timezone.now()
    ApiToken.objects.filter(user=user).filter(
        Q(expires_at__lte=now) | ~Q(password_fingerprint__in=password_fingerprints(user.password))
    ).delete()
    keep = settings.DEFECTLAB_API_TOKENS_PER_USER - 1
    oldest = ApiToken.objects.filter(user=user).order_by("-created_at", "-id").values_list("pk", flat=True)[keep:]
    ApiToken.objects.filter(pk__in=list(oldest)).delete()
    key = token_key_new()
    token = ApiToken.objects.create(
        user=user,
        digest=token_digest(key),
        prefix=key[:PREFIX_CHARACTERS],
        name=name,
        password_fingerprint=password_fingerprint(user.password),
        created_at=now,
        created_from=created_from,
        expires_at=now + timedelta(seconds=settings.DEFECTLAB_API_TOKEN_LIFETIME_SECONDS),
    )
    return token, key


def api_token_obtain(
    *, request: HttpRequest | Request, username: str, password: str, name: str = ""
) -> tuple[ApiToken, str]:
    """Username and password -> a new token. The password is checked by django.contrib.auth's `authenticate`
    with this request, so a failure here counts towards the same lock-out as one on the login page (logins.py),
    and a locked-out username or address is refused even with the right password."""
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise LoginLockedOut(lockout_message())
    if user is None:
        raise TokenCredentialsInvalid("Unable to log in with provided credentials.")
    return api_token_create(user=user, name=name, created_from=client_address(request))


def api_token_revoke(*, user: User, token_id: int) -> None:
    """Delete one of the user's tokens; another user's token answers like a missing one."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise NotFound("No such token.")
