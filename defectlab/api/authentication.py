"""Token authentication for scripts and benchmarks: DRF's, with the user read in one statement built once.

Every token-authenticated call starts here; DRF's own lookup (select_related on the token) compiles its SQL on
each request, about a tenth of the CPU of an autosave (bench/api_save.py). Same answers, same messages."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from defectlab.rows import row_select


@functools.cache
def _from_token(vendor: str) -> str:
    """FROM ... WHERE for the user (alias u) holding a token key."""
    quote, users = connection.ops.quote_name, get_user_model()._meta
    tokens = Token._meta
    return (
        f"FROM {quote(users.db_table)} u JOIN {quote(tokens.db_table)} t "
        f"ON t.{quote(tokens.get_field('user').column)} = u.{quote(users.pk.column)} "
        f"WHERE t.{quote(tokens.pk.column)} = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple:
        user = row_select(get_user_model(), alias="u", tail=_from_token(connection.vendor), params=[key])
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
