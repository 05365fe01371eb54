"""Server-rendered pages. They read through the same selectors (and permission checks) as the API."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotation.models import ImageStatus, Role
from annotation.permissions import Capability, role_allows
from annotation.selectors import (
    defect_class_list_for_project,
    image_list_for_project,
    image_status_counts,
    project_get_for_user,
    project_list_for_user,
)
from datasets.selectors import dataset_version_list_for_project
from defectlab.accounts.selectors import api_token_list_for_user
from defectlab.accounts.services import api_token_revoke
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound, PermissionDenied
from qa.permissions import QaAction, qa_allows

IMAGES_PER_PAGE = 60


def _project_or_404(
    request: AuthenticatedHttpRequest, project_id: int, capability: Capability = Capability.VIEW_PROJECT
):
    try:
        return project_get_for_user(user=request.user, project_id=project_id, capability=capability)
    except NotFound as error:
        raise Http404(error.message) from None


def _id_param(request: AuthenticatedHttpRequest, name: str) -> int | None:
    """An id from the query string, or None for anything else ("²" is a digit to str.isdigit, not to int)."""
    value = request.GET.get(name, "")
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None  # 18 digits: always within a bigint


@login_required
def project_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "projects": project_list_for_user(user=request.user),
        "api_tokens": list(api_token_list_for_user(user=request.user)),  # shown only to those who have some
    }
    return render(request, "frontend/project_list.html", context)


@login_required
@require_POST
def api_token_revoke_page(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    try:
        api_token_revoke(user=request.user, token_id=token_id)
    except NotFound as error:
        raise Http404(error.message) from None
    return redirect("projects-page")


@login_required
def project_detail(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, role = _project_or_404(request, project_id)
    status = request.GET.get("status") or None
    if status not in ImageStatus.values:
        status = None
    defect_class_id = _id_param(request, "defect_class")
    after = _id_param(request, "after")
    images = image_list_for_project(
        user=request.user, role=role, project=project, status=status, defect_class_id=defect_class_id
    )
    if after is not None:
        images = images.filter(id__gt=after)
    page = list(images[: IMAGES_PER_PAGE + 1])
    counts = image_status_counts(user=request.user, role=role, project=project)
    context = {
        "project": project,
        "role": role,
        "can_upload": role_allows(role, Capability.UPLOAD),
        "can_manage": role_allows(role, Capability.MANAGE_PROJECT),
        "can_view_quality": qa_allows(role, QaAction.VIEW_STATISTICS),  # the QA page's own check
        "defect_classes": defect_class_list_for_project(project=project),
        "status_rows": [(value, label, counts.get(value, 0)) for value, label in ImageStatus.choices],
        "defect_free_count": counts["defect_free"],
        "images": page[:IMAGES_PER_PAGE],
        "next_after": page[IMAGES_PER_PAGE - 1].pk if len(page) > IMAGES_PER_PAGE else None,
        "selected_status": status,
        "selected_class": defect_class_id,
        # The training form's choices (admins): read here, as the version pages read them.
        "dataset_versions": dataset_version_list_for_project(project=project) if role == Role.ADMIN else [],
    }
    return render(request, "frontend/project_detail.html", context)


@login_required
def upload(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    try:
        project, _ = _project_or_404(request, project_id, Capability.UPLOAD)
    except PermissionDenied as error:
        return render(request, "frontend/forbidden.html", {"message": error.message}, status=403)
    return render(request, "frontend/upload.html", {"project": project})
