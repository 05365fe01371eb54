"""Dataset version pages: the list with the freeze form, and a version's counts, balance, diff and exports.

They read through datasets.selectors and write through datasets.services, with the API's permission checks
(MANAGE_VERSIONS: ML engineers and admins). Exports are requested and followed through the API from the page."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from annotation.models import ImageStatus
from annotation.permissions import Capability
from annotation.selectors import defect_class_list_for_project, project_get_for_user
from datasets.balance import balance_report
from datasets.exporters.registry import exporter_names
from datasets.job_kinds import FREEZE_JOB_KIND
from datasets.models import LineKind
from datasets.selectors import (
    dataset_export_list_for_version,
    dataset_version_get_for_user,
    dataset_version_list_for_project,
)
from datasets.services.versions import FreezeOptions, dataset_version_freeze_start
from datasets.splits import SPLIT_NAMES
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound, PermissionDenied, ValidationFailed
from defectlab.jobs.models import UNFINISHED_STATUSES
from defectlab.jobs.selectors import job_get_for_user, job_list_for_project

FORMAT_LABELS = {
    "coco": "COCO instances",
    "yolo": "YOLO segmentation",
    "voc": "Pascal VOC",
    "masks": "PNG masks",
}


def _forbidden(request: AuthenticatedHttpRequest, error: PermissionDenied) -> HttpResponse:
    return render(request, "frontend/forbidden.html", {"message": error.message}, status=403)


def _options_from(form: QueryDict, classes: list[str]) -> FreezeOptions:
    """Freeze options from the page's form; ValidationFailed names the field at fault."""
    try:
        seed = int(form.get("seed") or 0)
        percentages = [float(form.get(f"split_{split}") or 0) for split in SPLIT_NAMES]
    except ValueError:
        raise ValidationFailed("The seed and the split percentages must be numbers.") from None
    chosen = form.getlist("defect_classes")
    if classes and not chosen:
        raise ValidationFailed("Choose at least one defect class.")
    return FreezeOptions(
        seed=seed,
        defect_classes=None if set(chosen) == set(classes) else tuple(chosen),
        image_statuses=tuple(form.getlist("image_statuses")) or (ImageStatus.FINAL,),
        final_annotations_only=form.get("include_non_final") != "on",
        include_defect_free=form.get("include_defect_free") == "on",
        split_ratios=tuple((split, value / 100) for split, value in zip(SPLIT_NAMES, percentages, strict=True)),
    )


def _freezes_shown(request: AuthenticatedHttpRequest, *, project_id: int) -> list[dict]:
    """The project's freezes under way, and the one this page was sent to follow (?freeze=id) however it ended."""
    jobs, _ = job_list_for_project(
        user=request.user, project_id=project_id, kind=FREEZE_JOB_KIND, statuses=UNFINISHED_STATUSES
    )
    shown = list(jobs.order_by("id"))
    followed = request.GET.get("freeze", "")
    # ASCII digits, 18 at most: "²" is a digit to str.isdigit but not to int, and 19 may be past a bigint.
    if re.fullmatch(r"[0-9]{1,18}", followed) and all(job.pk != int(followed) for job in shown):
        try:
            job, _ = job_get_for_user(user=request.user, job_id=int(followed))
        except NotFound:
            pass  # another project's job, or none: nothing to follow
        else:
            if job.project_id == project_id and job.kind == FREEZE_JOB_KIND:
                shown.append(job)
    return [{"job": job, "name": job.params.get("name", ""), "is_followed": str(job.pk) == followed} for job in shown]


@login_required
def version_list(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    try:
        project, role = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_VERSIONS
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except PermissionDenied as error:
        return _forbidden(request, error)
    classes = [defect_class.name for defect_class in defect_class_list_for_project(project=project)]
    refusal: str | None = None
    if request.method == "POST":
        try:
            job = dataset_version_freeze_start(
                project=project,
                name=request.POST.get("name", ""),
                created_by=request.user,
                line_kind=request.POST.get("line_kind", LineKind.SAFETY_CRITICAL),
                options=_options_from(request.POST, classes),
            )
        except ValidationFailed as failure:
            refusal = failure.message
        else:
            # Back to the list, which follows the freeze; the page opens the version once the worker has made it.
            return redirect(f"{reverse('version-list-page', args=[project.pk])}?freeze={job.pk}#freezes")
    context = {
        "project": project,
        "versions": dataset_version_list_for_project(project=project),
        "freezes": _freezes_shown(request, project_id=project.pk),
        "defect_classes": classes,
        "statuses": ImageStatus.choices,
        "line_kinds": LineKind.choices,
        "error": refusal,
        "form": request.POST if refusal else None,
    }
    return render(request, "frontend/version_list.html", context, status=400 if refusal else 200)


@login_required
def version_detail(request: AuthenticatedHttpRequest, version_id: int) -> HttpResponse:
    try:
        version = dataset_version_get_for_user(user=request.user, version_id=version_id)
    except NotFound as error:
        raise Http404(error.message) from None
    except PermissionDenied as error:
        return _forbidden(request, error)
    counts = version.counts
    class_rows = [
        {
            "name": name,
            "cells": [
                (per_class["images"][split], per_class["annotations"][split]) for split in (*SPLIT_NAMES, "total")
            ],
        }
        for name, per_class in counts["classes"].items()
    ]
    exports = {
        (export.format, export.with_images): export
        for export in dataset_export_list_for_version(version=version).select_related("job")
    }
    export_rows = [
        {
            "format": name,
            "label": FORMAT_LABELS.get(name, name),
            "variants": [(with_images, exports.get((name, with_images))) for with_images in (False, True)],
        }
        for name in exporter_names()
    ]
    context = {
        "version": version,
        "project": version.project,
        "splits": SPLIT_NAMES,
        "split_percentages": [(split, 100 * version.split_ratios[split]) for split in SPLIT_NAMES],
        "totals": {
            kind: [counts[kind][split] for split in (*SPLIT_NAMES, "total")]
            for kind in ("images", "defect_free_images", "annotations")
        },
        "class_rows": class_rows,
        "balance": balance_report(counts=counts, line_kind=version.line_kind),
        "diff": version.diff,
        "export_rows": export_rows,
    }
    return render(request, "frontend/version_detail.html", context)
