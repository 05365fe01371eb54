"""Content-Security-Policy on every response: the policy string is built once, at start-up.

django-csp rebuilds the header on each response (about 0.1 ms, deep copies included); on the autosave path
(bench/api_save.py) that is a few percent of a save's CPU for a policy that never changes. Pages hold no inline
scripts, styles or event handlers, so the policy needs neither nonces nor per-view changes."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_header(directives: dict[str, list[str]]) -> str:
    """`{"script-src": ["'self'"], ...}` -> "script-src 'self'; ..." (directives in the order given)."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, self.header)
        return response
