"""What every app's server-rendered pages share: domain errors shown as pages."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound, PermissionDenied


def domain_errors_as_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page behind a login whose NotFound is a 404 (as for a missing id) and PermissionDenied the 403 page
    with the reason."""

    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from None
        except PermissionDenied as error:
            return render(request, "frontend/forbidden.html", {"message": error.message}, status=403)

    return login_required(wrapper)
