"""Reading settings from the environment, with units and loud failures."""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from error


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return default if value is None else [item.strip() for item in value.split(",") if item.strip()]


def mandatory_secret(name: str, *, debug: bool) -> str:
    """The secret, or a fixed development key in DEBUG; unset outside DEBUG is a configuration error."""
    value = os.environ.get(name, "")
    if value:
        return value
    if debug:
        return "defectlab-development-only-key-never-use-in-production"  # noqa: S105 - DEBUG only
    raise ImproperlyConfigured(f"{name} must be set when DEFECTLAB_DEBUG is off")
