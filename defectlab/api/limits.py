"""Per-endpoint request body limits, checked before the body is read.

DRF parses JSON from the request stream, not through `request.body`, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never
sees it: an endpoint with a tighter budget calls `request_body_limit_check` first thing in its handler."""

from rest_framework.request import Request

from defectlab.errors import TooLarge


def request_body_limit_check(request: Request, *, max_bytes: int, setting: str) -> None:
    """Refuse (413 too_large, naming `setting`) a body whose declared length is over `max_bytes`. Django reads no
    more than the declared length, and nothing when there is none (a chunked body without one reads empty)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django reads such a body as empty
    if length > max_bytes:
        raise TooLarge(
            f"The request body is {length:,} bytes; at most {max_bytes:,} are accepted here ({setting}).",
            limit=setting,
            allowed=max_bytes,
            actual=length,
        )
