"""The datasets app's job kinds (defectlab/jobs): thin, params in, one service call, the result out.

All three are idempotent: an import skips content already stored, an export stores only a complete file, and a
freeze stores its manifest before its version's row and finds the version its job already made."""

from annotation.models import Project
from datasets.models import LineKind
from datasets.services.exports import EXPORT_JOB_KIND, dataset_export_run
from datasets.services.jobs import IMPORT_JOB_KIND, import_job_run
from datasets.services.versions import FREEZE_JOB_KIND, FreezeOptions, dataset_version_freeze
from defectlab.jobs.context import JobContext
from defectlab.jobs.registry import job_kind


@job_kind(IMPORT_JOB_KIND, idempotent=True)
def images_import_job(job: JobContext) -> dict:
    return import_job_run(job=job)


@job_kind(EXPORT_JOB_KIND, idempotent=True)
def dataset_export_job(job: JobContext) -> dict:
    return dataset_export_run(job=job)


@job_kind(FREEZE_JOB_KIND, idempotent=True)
def dataset_version_freeze_job(job: JobContext) -> dict:
    version = dataset_version_freeze(
        project=Project.objects.get(pk=job.project_id),
        name=job.params["name"],
        created_by=job.created_by,
        options=FreezeOptions.from_params(job.params["options"]),
        line_kind=job.params.get("line_kind", LineKind.SAFETY_CRITICAL),
        job=job,
    )
    return {"version_id": version.pk, "content_hash": version.content_hash}
