"""One row per background job, whatever its kind: its lifecycle, progress, result and liveness."""

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


UNFINISHED_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """A unit of work done by a worker (or, for the command line, in-process) through a registered kind.

    The domain rows a job works on (an upload, an export, a version) live in their apps and point at their job;
    the job holds only what every kind has in common. `heartbeat_at` is the last sign of life: when the job was
    queued, started, or reported progress. An unfinished job without one for DEFECTLAB_JOB_STALE_SECONDS is
    taken to be lost by the recovery sweep (defectlab/jobs/services.py, jobs_recover)."""

    kind = models.CharField(max_length=100, help_text="A registered job kind (defectlab/jobs/registry.py).")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    project = models.ForeignKey(
        "annotation.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True, help_text="What the kind's function needs (JSON).")
    result = models.JSONField(default=dict, blank=True, help_text="What the kind's function returned (JSON).")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True, help_text="Empty while not known.")
    message = models.CharField(max_length=300, blank=True, help_text="What the job is doing now, for people.")
    error = models.TextField(blank=True, help_text="Why it failed, as a sentence a user can read (no traceback).")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started; more than one: a worker was lost.")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life (see the class).")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The sweep's query, over unfinished jobs only: finished ones are the bulk of the table.
            models.Index(
                fields=["heartbeat_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="job_unfinished_liveness",
            ),
            models.Index(fields=["project", "kind", "status"], name="job_project_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"
