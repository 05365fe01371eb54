"""The annotation editor page and the "My queue" page. Both are shells for the TypeScript bundle
(frontend/src/, built into frontend/static/frontend/build/ by `npm run build`); their data comes from the API,
behind the same selectors and permission checks."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotation.permissions import Capability, role_allows
from annotation.selectors import image_get_for_user
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound


@login_required
@ensure_csrf_cookie  # the editor's saves send the cookie's token in X-CSRFToken
def image_edit(request: AuthenticatedHttpRequest, image_id: int) -> HttpResponse:
    """The editor. With ?final=1 a reviewer edits the image's final annotations (e.g. after an adjudication): the
    editor shows only those, and what it draws is added to them."""
    try:
        image, role = image_get_for_user(user=request.user, image_id=image_id)
    except NotFound as error:
        raise Http404(error.message) from None
    is_final_mode = request.GET.get("final") == "1"
    if is_final_mode and not role_allows(role, Capability.REVIEW):
        message = f"Your role ({role}) may not edit the final annotations; only reviewers may."
        return render(request, "frontend/forbidden.html", {"message": message}, status=403)
    return render(request, "frontend/editor.html", {"image": image, "role": role, "is_final_mode": is_final_mode})


@login_required
@ensure_csrf_cookie
def my_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "frontend/queue.html")
