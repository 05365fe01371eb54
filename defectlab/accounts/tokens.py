"""API token keys and what is stored of them. Pure functions: no ORM.

A key is 256 random bits; the database keeps only its SHA-256. A fast unsalted hash is enough for keys that
random (there is no dictionary to try), and it is what lets the key be found with one indexed lookup on every
request. A token also stores a keyed fingerprint of its user's password hash as it was when the token was
made: a password change, by any path (admin, `changepassword`, a reset), changes the hash, so every older
token stops matching at once (the same idea as Django's session invalidation on password change)."""

import hashlib
import secrets

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

KEY_BYTES = 32  # 256 bits of randomness; the key is 43 URL-safe characters
PREFIX_CHARACTERS = 8  # shown in token lists so that their owner can tell tokens apart
FINGERPRINT_SALT = "defectlab.accounts.api-token.password"


def token_key_new() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def token_digest(key: str) -> str:
    """What is stored of a key and looked up: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(password_hash: str, *, secret: str | bytes | None = None) -> str:
    """A keyed digest of a user's password hash (never the hash itself), with SECRET_KEY unless `secret`."""
    return salted_hmac(FINGERPRINT_SALT, password_hash, secret=secret, algorithm="sha256").hexdigest()


def password_fingerprints(password_hash: str) -> list[str]:
    """The fingerprint under SECRET_KEY and under each of SECRET_KEY_FALLBACKS: a key rotation keeps tokens."""
    return [password_fingerprint(password_hash, secret=key) for key in [None, *settings.SECRET_KEY_FALLBACKS]]


def password_fingerprint_matches(fingerprint: str, password_hash: str) -> bool:
    if constant_time_compare(fingerprint, password_fingerprint(password_hash)):
        return True  # the usual case: one HMAC
    return any(
        constant_time_compare(fingerprint, password_fingerprint(password_hash, secret=key))
        for key in settings.SECRET_KEY_FALLBACKS
    )
