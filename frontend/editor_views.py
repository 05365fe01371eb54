"""The annotation editor page and the "My queue" page. Both are shells for the TypeScript bundle
(frontend/src/, built into frontend/static/frontend/build/ by `npm run build`); their data comes from the API,
behind the same selectors and permission checks."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotation.errors import NotFound
from annotation.selectors import image_get_for_user


@login_required
@ensure_csrf_cookie  # the editor's saves send the cookie's token in X-CSRFToken
def image_edit(request: HttpRequest, image_id: int) -> HttpResponse:
    try:
        image, role = image_get_for_user(user=request.user, image_id=image_id)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(request, "frontend/editor.html", {"image": image, "role": role})


@login_required
@ensure_csrf_cookie
def my_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/queue.html")
