"""The jobs API's rows of the API role matrix (tests/test_role_matrix.py adds them to its own). Every member sees
the project's jobs; a job is cancelled by its starter (here the admin) or by whoever manages the project."""

from dataclasses import dataclass

from defectlab.jobs.models import Job
from defectlab.jobs.services import job_create

# fmt: off
#  url name                     method    variant        anon insp senior  ml  admin outsider
JOBS_EXPECTED_STATUS = [
    ("job-detail",              "get",    "",            401, 200, 200, 200, 200, 404),
    ("job-cancel",              "post",   "",            401, 403, 403, 403, 200, 404),
    ("project-job-list",        "get",    "",            401, 200, 200, 200, 200, 404),
]
# fmt: on
JOBS_WRITTEN_MODELS = (Job,)


@dataclass(frozen=True)
class Call:
    """The shape of tests/test_role_matrix.py's Call (path, data, format)."""

    path: str
    data: dict | None = None
    format: str | None = "json"


def _queued_job(world) -> Job:
    # Never sent to a worker: job_create only makes the row.
    return job_create(kind="images_import", project=world.team.project, created_by=world.team.admin)


JOBS_REQUESTS = {
    ("job-detail", "get", ""): lambda world: Call(f"/api/v1/jobs/{_queued_job(world).pk}/"),
    ("job-cancel", "post", ""): lambda world: Call(f"/api/v1/jobs/{_queued_job(world).pk}/cancel/"),
    ("project-job-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/jobs/"),
}
