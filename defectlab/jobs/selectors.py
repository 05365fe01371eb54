"""Reads. A job is visible to the members of its project (a job of no project: to its creator); to anyone else
it does not exist (NotFound), like an id that was never used."""

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db.models import QuerySet

from defectlab.errors import NotFound
from defectlab.jobs.access import JobAccess, project_job_access
from defectlab.jobs.models import Job


def job_access_for_user(*, job: Job, user: User) -> JobAccess:
    """The user's reach into `job`: through its project, or, for a job of no project, as its creator."""
    if job.project_id is not None:
        return project_job_access(user=user, project_id=job.project_id)
    if user.is_superuser:
        return JobAccess.MANAGE
    return JobAccess.VIEW if job.created_by_id is not None and job.created_by_id == user.pk else JobAccess.NONE


def job_get_for_user(*, user: User, job_id: int) -> tuple[Job, JobAccess]:
    job = Job.objects.select_related("created_by").filter(pk=job_id).first()
    access = job_access_for_user(job=job, user=user) if job is not None else JobAccess.NONE
    if job is None or access == JobAccess.NONE:
        raise NotFound("No such job.")
    return job, access


def job_list_for_project(
    *, user: User, project_id: int, kind: str | None = None, statuses: Collection[str] | None = None
) -> tuple[QuerySet[Job], JobAccess]:
    """The project's jobs, newest first, with the user's access to them (NotFound for non-members)."""
    access = project_job_access(user=user, project_id=project_id)
    if access == JobAccess.NONE:
        raise NotFound("No such project.")
    jobs = Job.objects.filter(project_id=project_id).select_related("created_by")
    if kind:
        jobs = jobs.filter(kind=kind)
    if statuses:
        jobs = jobs.filter(status__in=statuses)
    return jobs.order_by("-id"), access
