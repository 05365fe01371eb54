"""Computing the QA statistics again and keeping the result (QaStatisticsSnapshot), for the QA page."""

import time

from django.utils import timezone

from annotation.models import Project
from qa.models import QaStatisticsSnapshot
from qa.selectors import qa_statistics_for_project
from qa.statistics import statistics_tables


def qa_statistics_refresh(*, project: Project) -> QaStatisticsSnapshot:
    """Compute the project's statistics tables now and keep them, with how long that took. The reads are not
    one snapshot of the database: tables computed while QA goes on may be a moment apart, as the page says."""
    started = time.perf_counter()
    tables = statistics_tables(qa_statistics_for_project(project=project))
    compute_ms = (time.perf_counter() - started) * 1000
    snapshot, _ = QaStatisticsSnapshot.objects.update_or_create(
        project=project, defaults={"tables": tables, "computed_at": timezone.now(), "compute_ms": compute_ms}
    )
    return snapshot


def qa_statistics_refresh_all() -> int:
    """Refresh every project's statistics, one project at a time (the periodic task); returns how many."""
    projects = list(Project.objects.order_by("id"))
    for project in projects:
        qa_statistics_refresh(project=project)
    return len(projects)
