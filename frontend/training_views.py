"""Training pages: a run's live page and a model's page. They only check that the user is a member of the project
and pass ids to their scripts; the runs and models themselves come from the training API (nothing imports
assist), whose role checks decide what each user sees."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from annotation.models import Role
from defectlab.authenticated import AuthenticatedHttpRequest
from frontend.views import _project_or_404


@login_required
def training_run(request: AuthenticatedHttpRequest, project_id: int, run_id: int) -> HttpResponse:
    project, _ = _project_or_404(request, project_id)
    return render(request, "frontend/training_run.html", {"project": project, "run_id": run_id})


@login_required
def trained_model(request: AuthenticatedHttpRequest, project_id: int, model_id: int) -> HttpResponse:
    project, role = _project_or_404(request, project_id)
    # Only admins may promote (assist/permissions.py); the server refuses anyone else's request anyway.
    context = {"project": project, "model_id": model_id, "can_promote": role == Role.ADMIN}
    return render(request, "frontend/trained_model.html", context)
