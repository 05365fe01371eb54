"""The datasets app's job kinds (defectlab/jobs): thin, params in, one service call, the result out.

Every process imports this module at start-up (JobsConfig.ready), so it stays light: each function imports its
service when a worker runs it (decoding, tracing and exporting pull in OpenCV and NumPy). All three kinds are
idempotent: an import skips content already stored, an export stores only a complete file, and a freeze stores
its manifest before its version's row and finds the version its job already made."""

from defectlab.jobs.context import JobContext
from defectlab.jobs.registry import job_kind

IMPORT_JOB_KIND = "images_import"
EXPORT_JOB_KIND = "dataset_export"
FREEZE_JOB_KIND = "dataset_version_freeze"


@job_kind(IMPORT_JOB_KIND, idempotent=True)
def images_import_job(job: JobContext) -> dict:
    from datasets.services.jobs import import_job_run

    return import_job_run(job=job)


@job_kind(EXPORT_JOB_KIND, idempotent=True)
def dataset_export_job(job: JobContext) -> dict:
    from datasets.services.exports import dataset_export_run

    return dataset_export_run(job=job)


@job_kind(FREEZE_JOB_KIND, idempotent=True)
def dataset_version_freeze_job(job: JobContext) -> dict:
    from annotation.models import Project
    from datasets.models import LineKind
    from datasets.services.versions import FreezeOptions, dataset_version_freeze

    if job.project_id is None:
        raise ValueError("A freeze job names no project.")  # dataset_version_freeze_start always sets one
    version = dataset_version_freeze(
        project=Project.objects.get(pk=job.project_id),
        name=job.params["name"],
        created_by=job.created_by,
        options=FreezeOptions.from_params(job.params["options"]),
        line_kind=job.params.get("line_kind", LineKind.SAFETY_CRITICAL),
        job=job,
    )
    return {"version_id": version.pk, "content_hash": version.content_hash}
