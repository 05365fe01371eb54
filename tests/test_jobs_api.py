"""The jobs API: one shape for every kind, visible to the project's members, cancelled by its starter or an admin."""

from datetime import datetime

import pytest
from django.urls import reverse

from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_create, job_run
from tests.jobs_kinds import FAILS, SUCCEEDS, registered_kinds

pytestmark = pytest.mark.django_db
kinds = registered_kinds  # the fixture, under the name the tests ask for


def test_job_detail_contract(kinds, team, api):
    # given: a job the senior started, run to its end
    job = job_run(
        job_id=job_create(kind=SUCCEEDS, project=team.project, created_by=team.senior, params={"value": 5}).pk
    )
    # when
    body = api(team.inspector).get(reverse("job-detail", args=[job.pk])).json()
    # then
    for moment in ("created_at", "started_at", "finished_at"):
        datetime.fromisoformat(body.pop(moment))
    assert body == {
        "id": job.pk,
        "kind": SUCCEEDS,
        "status": "succeeded",
        "progress_done": 4,
        "progress_total": 4,
        "message": "Halfway",
        "error": "",
        "created_by": "senior",
        "result": {"doubled": 10},
        "can_cancel": False,
    }


def test_a_queued_job_says_who_may_cancel_it(kinds, team, api):
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.senior, params={"value": 1})
    url = reverse("job-detail", args=[job.pk])
    can_cancel = {
        role: api(team.member(role)).get(url).json()["can_cancel"] for role in ("inspector", "senior", "admin")
    }
    assert can_cancel == {"inspector": False, "senior": True, "admin": True}
    body = api(team.senior).get(url).json()
    assert (body["status"], body["started_at"], body["finished_at"], body["progress_total"]) == (
        "queued",
        None,
        None,
        None,
    )


def test_failed_job_shows_the_reason(kinds, team, api):
    job = job_run(job_id=job_create(kind=FAILS, project=team.project, created_by=team.admin).pk)
    body = api(team.admin).get(reverse("job-detail", args=[job.pk])).json()
    assert (body["status"], body["error"], body["result"]) == ("failed", "OSError: disk full", {})


def test_jobs_are_not_found_across_projects(kinds, team, api):
    # given: the outsider is an admin of another project
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.admin, params={"value": 1})
    client = api(team.outsider)
    # when
    answers = [
        client.get(reverse("job-detail", args=[job.pk])),
        client.post(reverse("job-cancel", args=[job.pk])),
        client.get(reverse("project-job-list", args=[team.project.pk])),
        client.get(reverse("job-detail", args=[job.pk + 1000])),
    ]
    # then: exactly like ids that do not exist, and nothing changed
    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [(404, "not_found")] * 4
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED


@pytest.mark.parametrize(
    ("role", "status"),
    [("senior", 200), ("admin", 200), ("inspector", 403), ("ml_engineer", 403), ("outsider", 404)],
)
def test_a_job_is_cancelled_by_its_starter_or_a_project_admin(kinds, team, api, role, status):
    # given: the senior started it
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.senior, params={"value": 1})
    # when
    response = api(team.member(role)).post(reverse("job-cancel", args=[job.pk]))
    # then
    assert response.status_code == status, response.content
    job.refresh_from_db()
    assert job.status == (JobStatus.CANCELLED if status == 200 else JobStatus.QUEUED)
    if status == 200:
        assert (response.json()["status"], response.json()["can_cancel"]) == ("cancelled", False)
    if status == 403:
        assert response.json()["code"] == "permission_denied"


def test_cancelling_a_running_job_asks_its_worker_to_stop(kinds, team, api):
    job = job_create(kind=SUCCEEDS, project=team.project, created_by=team.senior, params={"value": 1})
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    body = api(team.senior).post(reverse("job-cancel", args=[job.pk])).json()
    assert (body["status"], body["can_cancel"], body["message"]) == (
        "running",
        False,
        "Cancel asked by senior; stopping.",
    )
    assert Job.objects.get(pk=job.pk).cancel_requested_at is not None


def test_a_finished_job_cannot_be_cancelled(kinds, team, api):
    job = job_run(job_id=job_create(kind=SUCCEEDS, project=team.project, created_by=team.admin, params={"value": 1}).pk)
    response = api(team.admin).post(reverse("job-cancel", args=[job.pk]))
    assert (response.status_code, response.json()) == (
        409,
        {"code": "job_finished", "message": "This job has already ended (succeeded).", "status": "succeeded"},
    )


def test_project_job_list_filters_newest_first_a_page_at_a_time(kinds, team, api):
    # given
    first = job_run(job_id=job_create(kind=SUCCEEDS, project=team.project, created_by=None, params={"value": 1}).pk)
    failed = job_run(job_id=job_create(kind=FAILS, project=team.project, created_by=None).pk)
    queued = job_create(kind=SUCCEEDS, project=team.project, created_by=None, params={"value": 2})
    url = reverse("project-job-list", args=[team.project.pk])
    client = api(team.inspector)
    # when
    every = client.get(url).json()
    succeeded_kind = client.get(url, {"kind": SUCCEEDS, "status": "succeeded"}).json()
    page = client.get(url, {"page_size": 2}).json()
    following = client.get(page["next"]).json()
    bad_status = client.get(url, {"status": "lost"})
    # then
    assert [job["id"] for job in every["results"]] == [queued.pk, failed.pk, first.pk]
    assert [job["id"] for job in succeeded_kind["results"]] == [first.pk]
    assert [job["id"] for job in page["results"]] + [job["id"] for job in following["results"]] == [
        queued.pk,
        failed.pk,
        first.pk,
    ]
    assert (bad_status.status_code, bad_status.json()["code"]) == (400, "invalid")


def test_a_job_of_no_project_is_its_starters_alone(kinds, team, api):
    job = job_create(kind=SUCCEEDS, project=None, created_by=team.senior, params={"value": 1})
    url = reverse("job-detail", args=[job.pk])
    assert [api(user).get(url).status_code for user in (team.senior, team.admin, None)] == [200, 404, 401]
