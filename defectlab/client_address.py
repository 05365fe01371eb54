"""The address a request came from, for login throttling and the token list.

Behind the TLS proxy (DEFECTLAB_BEHIND_TLS_PROXY) every connection comes from the proxy, so REMOTE_ADDR would
put all users behind one address: the proxy appends the address it saw to X-Forwarded-For, and that last entry
is the one to believe. Entries to its left were sent by the client and may be forged, so they are never read.
Without the switch X-Forwarded-For is ignored altogether: anyone can send it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the request carries none that parses."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            address = _address(forwarded.rsplit(",", 1)[-1])
            if address is not None:
                return address
    return _address(request.META.get("REMOTE_ADDR", ""))
