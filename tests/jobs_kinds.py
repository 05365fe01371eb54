"""Job kinds made up for the job framework's tests, registered only while a test runs (fixture `kinds`)."""

from dataclasses import dataclass, field

import pytest

from defectlab.errors import ValidationFailed
from defectlab.jobs import registry
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job

SUCCEEDS, FAILS, REFUSES, WAITS_FOR_CANCEL, NOT_IDEMPOTENT = (
    "test_succeeds",
    "test_fails",
    "test_refuses",
    "test_waits_for_cancel",
    "test_not_idempotent",
)


@dataclass
class Runs:
    """What the made-up kinds saw: one entry per run, with the job's attempt number."""

    attempts: list[int] = field(default_factory=list)


def _succeeds(runs: Runs):
    def run(job: JobContext) -> dict:
        runs.attempts.append(job.attempt)
        job.progress(2, total=4, message="Halfway")
        return {"doubled": job.params["value"] * 2}

    return run


def _fails(runs: Runs):
    def run(job: JobContext) -> dict:
        runs.attempts.append(job.attempt)
        raise OSError("disk full")

    return run


def _refuses(runs: Runs):
    def run(job: JobContext) -> dict:
        runs.attempts.append(job.attempt)
        raise ValidationFailed("This project already has a version named 'v1'.")

    return run


def _waits_for_cancel(runs: Runs):
    def run(job: JobContext) -> dict:
        runs.attempts.append(job.attempt)
        # Someone cancels while it runs (the test's stand-in for a click during a long job).
        Job.objects.filter(pk=job.job_id).update(cancel_requested_at="2026-01-01T00:00:00Z")
        job.check_cancelled()
        return {"finished": True}

    return run


@pytest.fixture
def registered_kinds(monkeypatch) -> Runs:
    """Registers the made-up kinds; the registry is as it was after the test."""
    runs = Runs()
    for name, make, idempotent in (
        (SUCCEEDS, _succeeds, True),
        (FAILS, _fails, True),
        (REFUSES, _refuses, False),
        (WAITS_FOR_CANCEL, _waits_for_cancel, True),
        (NOT_IDEMPOTENT, _succeeds, False),
    ):
        kind = registry.JobKind(name=name, function=make(runs), idempotent=idempotent, queue=registry.DEFAULT_QUEUE)
        monkeypatch.setitem(registry.KINDS, name, kind)
    return runs
