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


BYTE_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3}


def env_bytes(name: str, default: int) -> int:
    """A size with an optional unit: "2GB", "512 MiB", "1048576" (bytes). Decimal units are powers of 1000."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    number = value.rstrip("BbKkMmGgIi ")
    unit = value[len(number) :].strip().upper()
    try:
        return int(float(number) * BYTE_UNITS[unit])
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"{name} must be a size such as 2GB or 512MiB, got {value!r}") from error


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
