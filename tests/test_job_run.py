"""The job framework: registering kinds, starting a job, running it to success, failure or cancellation."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from defectlab.jobs import registry
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_cancel, job_create, job_run, job_start
from tests.jobs_kinds import FAILS, REFUSES, SUCCEEDS, WAITS_FOR_CANCEL, registered_kinds

pytestmark = pytest.mark.django_db
kinds = registered_kinds  # the fixture, under the name the tests ask for


def test_a_kind_name_cannot_be_taken_twice(kinds):
    # given: SUCCEEDS is registered
    # when / then
    with pytest.raises(ImproperlyConfigured, match="test_succeeds"):
        registry.job_kind(SUCCEEDS)(lambda job: {})


def test_the_datasets_kinds_are_registered_at_startup():
    names = ("images_import", "dataset_export", "dataset_version_freeze")
    assert {name: registry.KINDS[name].idempotent for name in names} == dict.fromkeys(names, True)


def test_an_unknown_kind_is_refused_before_a_row_exists(team):
    with pytest.raises(LookupError, match="No job kind named 'nonsense'"):
        job_start(kind="nonsense", project=team.project, created_by=team.admin)
    assert Job.objects.count() == 0


def test_start_queues_the_job_and_sends_it_on_commit(kinds, team, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        job = job_start(kind=SUCCEEDS, project=team.project, created_by=team.admin, params={"value": 21})
    # then
    job.refresh_from_db()
    assert (job.status, job.attempts, job.params, job.heartbeat_at is not None) == (
        JobStatus.QUEUED,
        0,
        {"value": 21},
        True,
    )
    assert len(callbacks) == 1


def test_a_run_records_progress_and_the_result(kinds, team):
    # given
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.admin, params={"value": 21})
    # when
    job = job_run(job_id=job.pk)
    # then
    assert (job.status, job.result, job.error, job.attempts) == (JobStatus.SUCCEEDED, {"doubled": 42}, "", 1)
    assert (job.progress_done, job.progress_total, job.message) == (4, 4, "Halfway")
    assert job.started_at <= job.finished_at
    assert kinds.attempts == [1]


def test_a_failure_is_recorded_as_a_sentence_without_a_traceback(kinds, team):
    # given
    job = job_create(kind=FAILS, project=team.project, created_by=team.admin)
    # when
    job = job_run(job_id=job.pk)
    # then
    assert (job.status, job.error, job.result) == (JobStatus.FAILED, "OSError: disk full", {})
    assert job.finished_at is not None


def test_a_domain_error_is_recorded_as_its_own_message(kinds, team):
    job = job_run(job_id=job_create(kind=REFUSES, project=team.project, created_by=team.admin).pk)
    assert (job.status, job.error) == (JobStatus.FAILED, "This project already has a version named 'v1'.")


def test_a_second_delivery_of_a_finished_job_does_nothing(kinds, team):
    # given
    job = job_run(job_id=job_create(kind=SUCCEEDS, project=team.project, created_by=None, params={"value": 1}).pk)
    finished_at = job.finished_at
    # when
    again = job_run(job_id=job.pk)
    # then
    assert (again.status, again.attempts, again.finished_at, kinds.attempts) == (
        JobStatus.SUCCEEDED,
        1,
        finished_at,
        [1],
    )


def test_a_queued_job_cancelled_before_a_worker_takes_it_never_runs(kinds, team):
    # given
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.inspector, params={"value": 1})
    # when
    cancelled = job_cancel(job=job, user=team.inspector)
    ran = job_run(job_id=job.pk)
    # then
    assert (cancelled.status, cancelled.message) == (JobStatus.CANCELLED, "Cancelled by inspector before it started.")
    assert (ran.status, ran.attempts, kinds.attempts) == (JobStatus.CANCELLED, 0, [])


def test_a_running_job_stops_at_its_next_check_once_cancelled(kinds, team):
    # when: the job's function checks after someone asked to cancel it
    job = job_run(job_id=job_create(kind=WAITS_FOR_CANCEL, project=team.project, created_by=team.admin).pk)
    # then
    assert (job.status, job.result, job.error, job.message) == (
        JobStatus.CANCELLED,
        {},
        "",
        "Cancelled while running.",
    )
