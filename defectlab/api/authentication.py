"""Token authentication for scripts and benchmarks: DRF's header (`Authorization: Token <key>`) with our own
tokens (defectlab/accounts): hashed at rest, expiring, and void once their user's password changes.

Every token-authenticated call starts here, the editor's autosaves included when a script drives them
(bench/api_save.py): one statement whose SQL is built once, a SHA-256 and an HMAC, no writes."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from defectlab.accounts.selectors import api_token_for_key
from defectlab.accounts.tokens import password_fingerprint_matches


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, ...]:
        found = api_token_for_key(key=key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token expired: ask for a new one."))
        if not password_fingerprint_matches(token.password_fingerprint, user.password):
            raise exceptions.AuthenticationFailed(_("Token revoked: the password was changed since."))
        return user, token
