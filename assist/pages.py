"""The assist's pages: label next, label-error review, a training run's live page and a model's page (server-rendered;
their scripts in frontend/src/pages/). They live in assist because nothing imports assist: the URL root includes
their URLs, as it includes the assist API's."""

from django.http import HttpResponse
from django.shortcuts import render

from assist.label_review_selectors import (
    annotator_usernames_for_project,
    label_error_context,
    label_error_list_for_project,
    label_next_list_for_project,
)
from assist.permissions import AssistAction, assist_allows, project_get_for_assist
from assist.selectors import trained_model_get_for_user, training_run_get_for_user
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.errors import NotFound
from defectlab.pages import domain_errors_as_pages

PAGE_ROWS = 100  # the top of each ranking; the API lists up to 500


@domain_errors_as_pages
def label_next_page(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.REVIEW_LABELS)
    context = {
        "project": project,
        "rows": list(label_next_list_for_project(project=project)[:PAGE_ROWS]),
        "annotators": annotator_usernames_for_project(project=project),
    }
    return render(request, "assist/label_next.html", context)


@domain_errors_as_pages
def label_errors_page(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.REVIEW_LABELS)
    entries = list(label_error_list_for_project(project=project)[:PAGE_ROWS])
    annotators = label_error_context(entries=entries)["annotators"]
    rows = [
        {
            "entry": entry,
            "worst": entry.annotations[0]["self_confidence"] if entry.annotations else None,
            "annotators": annotators.get(entry.image_id, []),
        }
        for entry in entries
    ]
    return render(request, "assist/label_errors.html", {"project": project, "rows": rows})


@domain_errors_as_pages
def training_run_page(request: AuthenticatedHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    """The run's live page; its figures come from the training API as it trains."""
    run = training_run_get_for_user(user=request.user, run_id=run_id)  # 404 elsewhere, 403 for the role
    if run.project_id != project_id:
        raise NotFound("No such training run.")
    project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.VIEW_MODELS)
    return render(request, "frontend/training_run.html", {"project": project, "run_id": run.pk})


@domain_errors_as_pages
def trained_model_page(request: AuthenticatedHttpRequest, project_id: int, model_id: int) -> HttpResponse:
    model = trained_model_get_for_user(user=request.user, model_id=model_id)
    if model.project_id != project_id:
        raise NotFound("No such model.")
    project, role = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.VIEW_MODELS)
    context = {
        "project": project,
        "model_id": model.pk,
        "can_promote": assist_allows(role, AssistAction.PROMOTE),
        "can_retrain": assist_allows(role, AssistAction.TRAIN),
    }
    return render(request, "frontend/trained_model.html", context)
