"""The annotation editor page and the "My queue" page. Both are shells for the TypeScript bundle
(frontend/src/, built into frontend/static/frontend/build/ by `npm run build`); their data comes from the API,
behind the same selectors and permission checks."""

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from annotation.permissions import Capability, role_allows
from annotation.selectors import image_get_for_user
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound

# Cross-origin isolation: the editor's SAM worker runs onnxruntime-web's wasm on 2 threads, which needs
# SharedArrayBuffer, which browsers give only to isolated pages. The editor loads nothing from other origins.
CROSS_ORIGIN_ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
# The scripts that start workers in the isolated editor: SAM's worker, and onnxruntime-web's threaded loader (wasm
# starts its threads as workers of this very script). A worker of an isolated page is refused unless its script
# comes with Cross-Origin-Embedder-Policy, which static files do not get; so they are served here, from the build.
SAM_WORKER_FILES = {
    "samWorker.js": "frontend/build/samWorker.js",
    "ort-wasm-simd-threaded.mjs": "frontend/build/ort/ort-wasm-simd-threaded.mjs",
}


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
    response = render(request, "frontend/editor.html", {"image": image, "role": role, "is_final_mode": is_final_mode})
    for header, value in CROSS_ORIGIN_ISOLATION.items():
        response[header] = value
    return response


@login_required
@ensure_csrf_cookie
def my_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "frontend/queue.html")


def sam_worker_file(request: HttpRequest, name: str) -> FileResponse:
    """A script of the editor's SAM worker (SAM_WORKER_FILES), with the isolation headers its worker needs. The
    names carry no content hash: revalidated on each load (60 KB and 25 KB)."""
    path = finders.find(SAM_WORKER_FILES[name]) if name in SAM_WORKER_FILES else None
    if not isinstance(path, str):
        raise Http404("No such file; the editor bundle may not be built (cd frontend && npm run build).")
    response = FileResponse(open(path, "rb"), content_type="text/javascript")  # noqa: SIM115 - FileResponse closes it
    response["Cross-Origin-Embedder-Policy"] = "require-corp"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "no-cache"
    return response
