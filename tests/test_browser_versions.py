"""The version list in Chromium follows a freeze through the jobs API, and its starter can cancel it."""

import pytest

from conftest import ARTIFACTS
from datasets.job_kinds import FREEZE_JOB_KIND
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_freeze_waiting_for_a_worker_is_shown_and_cancelled_from_the_list(team, logged_in_page, live_server):
    # given: a freeze the ML engineer started that no worker has taken yet (job_create sends it nowhere)
    job = job_create(kind=FREEZE_JOB_KIND, project=team.project, created_by=team.ml_engineer, params={"name": "v1"})
    page = logged_in_page("ml_engineer")
    # when
    page.goto(f"{live_server.url}/projects/{team.project.pk}/versions/?freeze={job.pk}")
    row = page.locator(f'tr.freeze[data-job-id="{job.pk}"]')
    row.locator(".job-message", has_text="Waiting for a worker…").wait_for()
    page.screenshot(path=str(ARTIFACTS / "version-list-freeze-queued.png"), full_page=True)
    row.locator(".job-cancel").click()
    # then
    row.locator(".job-message", has_text="Cancelled.").wait_for()
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert row.locator(".job-cancel").is_hidden()
