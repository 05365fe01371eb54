"""QA pages: the project's QA page (statistics, policy, edge cases, re-reviews), the adjudication queue and view,
and the spot-check queue. Reads go through qa's selectors and permissions; every write is an API call from the
page's script, so pages and API share one path and one set of checks."""

import json

from django.http import HttpResponse
from django.shortcuts import render

from annotation.selectors import defect_class_list_for_project
from defectlab.authenticated import AuthenticatedHttpRequest
from defectlab.pages import domain_errors_as_pages
from qa.models import EdgeCaseStatus
from qa.permissions import QaAction, project_get_for_qa, qa_allows
from qa.selectors import (
    adjudication_get_for_review,
    adjudication_list_for_project,
    calibration_progress,
    edge_case_list_for_project,
    qa_policy_for_project,
    qa_queue_counts,
    qa_statistics_tables_for_project,
    re_review_list_for_project,
    spot_check_list_for_project,
    spot_check_sample_list_for_project,
)

QUEUE_PAGE_SIZE = 200
# Open edge cases on the QA page, oldest first, each with its decision form (the count above says how many are
# open): 200 forms were four fifths of the page's rendering at a million images (1,000 edge cases, 200 open).
EDGE_CASES_ON_PAGE = 50
RECENT_SAMPLES = 10


@domain_errors_as_pages
def qa_project(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, role = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.VIEW_STATISTICS)
    policy = qa_policy_for_project(project=project)
    statistics = qa_statistics_tables_for_project(project=project)
    context = {
        "project": project,
        "role": role,
        "policy": policy,
        "calibration": calibration_progress(project=project, policy=policy),
        "statistics": statistics,
        "tables": statistics.tables,
        "counts": qa_queue_counts(project=project),
        "can_adjudicate": qa_allows(role, QaAction.ADJUDICATE),
        "can_spot_check": qa_allows(role, QaAction.SPOT_CHECK),
        "can_decide": qa_allows(role, QaAction.DECIDE_EDGE_CASE),
        "can_re_review": qa_allows(role, QaAction.RE_REVIEW),
        "can_manage": qa_allows(role, QaAction.MANAGE_POLICY),
        "edge_cases": edge_case_list_for_project(
            user=request.user, role=role, project=project, status=EdgeCaseStatus.OPEN
        )[:EDGE_CASES_ON_PAGE],
        "edge_cases_on_page": EDGE_CASES_ON_PAGE,
        "re_reviews": re_review_list_for_project(project=project)[:QUEUE_PAGE_SIZE]
        if qa_allows(role, QaAction.RE_REVIEW)
        else [],
        "defect_classes": defect_class_list_for_project(project=project),
        "class_rules_json": json.dumps(policy.class_rules),
    }
    return render(request, "frontend/qa_project.html", context)


@domain_errors_as_pages
def qa_adjudication_queue(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.ADJUDICATE)
    adjudications = adjudication_list_for_project(project=project)[:QUEUE_PAGE_SIZE]
    return render(request, "frontend/qa_adjudication_queue.html", {"project": project, "adjudications": adjudications})


@domain_errors_as_pages
def qa_adjudication(request: AuthenticatedHttpRequest, adjudication_id: int) -> HttpResponse:
    adjudication = adjudication_get_for_review(user=request.user, adjudication_id=adjudication_id)
    context = {"adjudication": adjudication, "project": adjudication.agreement.project}
    return render(request, "frontend/qa_adjudication.html", context)


@domain_errors_as_pages
def qa_spot_check_queue(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.SPOT_CHECK)
    context = {
        "project": project,
        "pending": spot_check_list_for_project(project=project).count(),
        "samples": spot_check_sample_list_for_project(project=project)[:RECENT_SAMPLES],
    }
    return render(request, "frontend/qa_spot_checks.html", context)
