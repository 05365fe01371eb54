"""The assist app's job kinds (defectlab/jobs): thin, params in, one service call, the result out.

Every process imports this module at start-up (JobsConfig.ready), so `assist_prelabel` imports its service (and
with it OpenCV) only when a worker runs it; the services take the kind's name from here. It is idempotent: each
image's suggestions are written in one transaction, and a run again after a lost worker skips the images its job
already wrote. The label-next and label-error jobs are too: each image's score replaces its earlier one."""

from django.conf import settings

from assist.services.sam import EMBEDDINGS_JOB_KIND, sam_embeddings_run
from defectlab.jobs.context import JobContext
from defectlab.jobs.registry import job_kind

PRELABEL_JOB_KIND = "assist_prelabel"
LABEL_NEXT_JOB_KIND = "assist_label_next"  # the promoted model's uncertainty on every unlabelled image
LABEL_ERRORS_JOB_KIND = "assist_label_errors"  # the promoted model against every final answer


@job_kind(PRELABEL_JOB_KIND, idempotent=True, queue=settings.DEFECTLAB_ASSIST_PRELABEL_QUEUE)
def assist_prelabel_job(job: JobContext) -> dict:
    from assist.services.prelabels import prelabel_run

    return prelabel_run(job=job)


@job_kind(EMBEDDINGS_JOB_KIND, idempotent=True, queue=settings.DEFECTLAB_SAM_EMBEDDING_QUEUE)
def assist_embeddings_job(job: JobContext) -> dict:
    return sam_embeddings_run(job=job)


TRAINING_JOB_KIND = "training_run"
EVALUATION_JOB_KIND = "model_evaluation"


# Idempotent: a run queued again after a lost worker resumes from its last epoch's checkpoint, and records its
# model once (one row per run). One run per worker slot: the training queue's workers run with -c 1.
@job_kind(TRAINING_JOB_KIND, idempotent=True, queue=settings.DEFECTLAB_TRAINING_QUEUE)
def training_run_job(job: JobContext) -> dict:
    from assist.services.training import training_run_run

    return training_run_run(job=job)


@job_kind(EVALUATION_JOB_KIND, idempotent=True, queue=settings.DEFECTLAB_EVALUATION_QUEUE)
def model_evaluation_job(job: JobContext) -> dict:
    from assist.services.evaluation import model_evaluation_run

    return model_evaluation_run(job=job)


@job_kind(LABEL_NEXT_JOB_KIND, idempotent=True)
def assist_label_next_job(job: JobContext) -> dict:
    from assist.services.label_review import label_next_run

    return label_next_run(job=job)


@job_kind(LABEL_ERRORS_JOB_KIND, idempotent=True)
def assist_label_errors_job(job: JobContext) -> dict:
    from assist.services.label_review import label_errors_run

    return label_errors_run(job=job)
