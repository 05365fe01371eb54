"""Reads of API tokens. `api_token_for_key` runs on every token-authenticated request (the autosave path)."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from defectlab.accounts.models import ApiToken
from defectlab.accounts.tokens import password_fingerprints, token_digest
from defectlab.rows import row_layout

# What authentication reads of a token; the rest (digest, prefix, name, when and where made) stays deferred.
_TOKEN_UNREAD = frozenset({"digest", "prefix", "name", "created_at", "created_from"})


@functools.cache
def _token_statement(vendor: str) -> str:
    """SELECT <user columns (alias u)>, <token columns (alias t)> for the token with a given digest."""
    quote, users, tokens = connection.ops.quote_name, get_user_model()._meta, ApiToken._meta
    return (
        f"SELECT {row_layout(get_user_model(), 'u').columns}, {row_layout(ApiToken, 't', _TOKEN_UNREAD).columns} "  # noqa: S608
        f"FROM {quote(users.db_table)} u JOIN {quote(tokens.db_table)} t "
        f"ON t.{quote(str(tokens.get_field('user').column))} = u.{quote(str(users.pk.column))} "
        f"WHERE t.{quote(str(tokens.get_field('digest').column))} = %s"
    )


def api_token_for_key(*, key: str) -> tuple[User, ApiToken] | None:
    """The user and the token whose key this is, read in one statement whose SQL is built once (Django would
    compile it on every request: a tenth of an autosave's CPU, bench/api_save.py); None for an unknown key.
    Expiry, password changes and inactive users are the caller's to check: each has its own message."""
    with connection.cursor() as cursor:
        cursor.execute(_token_statement(connection.vendor), [token_digest(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    user = row_layout(get_user_model(), "u").instance(values)
    token = row_layout(ApiToken, "t", _TOKEN_UNREAD).instance(values)
    return user, token  # type: ignore[return-value]  # instance() is typed Model | None; the join found both


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work (not expired, made since the last password change), newest first."""
    return ApiToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), password_fingerprint__in=password_fingerprints(user.password)
    ).order_by("-created_at", "-id")
