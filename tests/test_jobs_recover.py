"""The recovery sweep: jobs whose worker was lost are queued again (idempotent kinds) or failed (others)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_create, jobs_recover
from tests.jobs_kinds import NOT_IDEMPOTENT, SUCCEEDS, registered_kinds

pytestmark = pytest.mark.django_db
kinds = registered_kinds  # the fixture, under the name the tests ask for
STALE_SECONDS = 600
MAX_ATTEMPTS = 3


def job_in(team, *, kind: str, status: str, silent_for_seconds: float, attempts: int = 1, **fields) -> Job:
    job = job_create(kind=kind, project=team.project, created_by=team.admin, params={"value": 1})
    Job.objects.filter(pk=job.pk).update(
        status=status,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(seconds=silent_for_seconds),
        **fields,
    )
    return job


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        recovered = jobs_recover(stale_after_seconds=STALE_SECONDS, max_attempts=MAX_ATTEMPTS)
    return recovered, len(callbacks)


def test_a_lost_idempotent_job_is_queued_again(kinds, team, django_capture_on_commit_callbacks):
    # given: running, silent for longer than the stale time
    job = job_in(team, kind=SUCCEEDS, status=JobStatus.RUNNING, silent_for_seconds=STALE_SECONDS + 1)
    # when
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    # then: queued again with a fresh heartbeat (claimed: the next sweep leaves it to the worker)
    job.refresh_from_db()
    assert (recovered.requeued, recovered.failed, sent) == ([job.pk], [], 1)
    assert (job.status, job.attempts, job.message) == (JobStatus.QUEUED, 1, "Queued again: its worker was lost.")
    assert timezone.now() - job.heartbeat_at < timedelta(seconds=5)
    assert sweep(django_capture_on_commit_callbacks)[0].requeued == []


def test_a_lost_job_of_another_kind_fails_with_the_reason(kinds, team, django_capture_on_commit_callbacks):
    job = job_in(team, kind=NOT_IDEMPOTENT, status=JobStatus.RUNNING, silent_for_seconds=STALE_SECONDS + 1)
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (recovered.requeued, recovered.failed, sent) == ([], [job.pk], 0)
    assert (job.status, job.error) == (JobStatus.FAILED, "The worker running this job stopped (lost).")
    assert job.finished_at is not None


def test_a_job_lost_too_often_fails(kinds, team, django_capture_on_commit_callbacks):
    job = job_in(
        team, kind=SUCCEEDS, status=JobStatus.RUNNING, silent_for_seconds=STALE_SECONDS + 1, attempts=MAX_ATTEMPTS
    )
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (recovered.failed, sent) == ([job.pk], 0)
    assert (job.status, job.error) == (JobStatus.FAILED, "The worker running this job was lost 3 times.")


def test_a_queued_job_no_worker_took_is_sent_again_whatever_its_kind(kinds, team, django_capture_on_commit_callbacks):
    # given: never started (its message was lost); running it cannot do anything twice
    job = job_in(team, kind=NOT_IDEMPOTENT, status=JobStatus.QUEUED, silent_for_seconds=STALE_SECONDS + 1, attempts=0)
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (recovered.requeued, sent, job.status, job.attempts) == ([job.pk], 1, JobStatus.QUEUED, 0)


def test_live_and_finished_jobs_are_left_alone(kinds, team, django_capture_on_commit_callbacks):
    # given: a running job with a recent heartbeat, and a long-finished one
    live = job_in(team, kind=SUCCEEDS, status=JobStatus.RUNNING, silent_for_seconds=STALE_SECONDS - 30)
    done = job_in(team, kind=SUCCEEDS, status=JobStatus.SUCCEEDED, silent_for_seconds=10 * STALE_SECONDS)
    before = {job.pk: (job.status, job.heartbeat_at) for job in Job.objects.all()}
    # when
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    # then
    assert (recovered.requeued, recovered.failed, sent) == ([], [], 0)
    assert {job.pk: (job.status, job.heartbeat_at) for job in Job.objects.all()} == before
    assert {live.pk, done.pk} == set(before)


def test_a_lost_job_that_was_being_cancelled_ends_cancelled(kinds, team, django_capture_on_commit_callbacks):
    job = job_in(
        team,
        kind=SUCCEEDS,
        status=JobStatus.RUNNING,
        silent_for_seconds=STALE_SECONDS + 1,
        cancel_requested_at=timezone.now() - timedelta(seconds=STALE_SECONDS),
    )
    recovered, sent = sweep(django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (recovered.requeued, recovered.failed, sent, job.status) == ([], [], 0, JobStatus.CANCELLED)
