"""Fixtures shared by every app's tests and the integration tests: a project with one member per role,
API clients, and a real Celery worker process on the real Redis and PostgreSQL."""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from annotation.models import DefectClass, Project, Role, SeverityLevel
from defectlab.celery import worker_command
from defectlab.events import events_dispatch_through
from defectlab.jobs.services import jobs_send_through
from tests.factories import DefectClassFactory, MembershipFactory, ProjectFactory, SeverityLevelFactory, UserFactory

REPO = Path(__file__).resolve().parent
SHARED_DATA = Path(os.environ.get("DEFECTLAB_SHARED_DATA", REPO.parent / "shared" / "data" / "magnetic-tile"))
WORKER_START_TIMEOUT_SECONDS = 60


@dataclass
class Team:
    """A project with one member per role, a user from another project, and one defect class."""

    project: Project
    inspector: User
    senior: User
    ml_engineer: User
    admin: User
    outsider: User
    defect_class: DefectClass
    severity: SeverityLevel

    def member(self, role: str) -> User:
        return {
            "inspector": self.inspector,
            "senior": self.senior,
            "ml_engineer": self.ml_engineer,
            "admin": self.admin,
            "outsider": self.outsider,
        }[role]


@pytest.fixture
def team(db) -> Team:
    project = ProjectFactory.create(name="Tile line", slug="tile-line")
    members = {
        role: MembershipFactory.create(project=project, role=role, user=UserFactory.create(username=role)).user
        for role in Role.values
    }
    other = ProjectFactory.create(name="Other line", slug="other-line")
    outsider = MembershipFactory.create(
        project=other, role=Role.ADMIN, user=UserFactory.create(username="outsider")
    ).user
    defect_class = DefectClassFactory.create(project=project, name="crack")
    severity = SeverityLevelFactory.create(defect_class=defect_class, name="minor", rank=1)
    return Team(
        project=project,
        inspector=members[Role.INSPECTOR],
        senior=members[Role.SENIOR],
        ml_engineer=members[Role.ML_ENGINEER],
        admin=members[Role.ADMIN],
        outsider=outsider,
        defect_class=defect_class,
        severity=severity,
    )


@pytest.fixture(autouse=True)
def broker_only_with_a_worker(request):
    """Tests that run no worker send no events or jobs to the broker. Otherwise the session's worker (started by
    an earlier integration test) would run them later against the test database, during another test, even
    during a transactional test's closing flush, whose TRUNCATE then deadlocks with the worker's writes."""
    if "celery_worker_process" in request.fixturenames or request.node.get_closest_marker("integration"):
        yield
        return
    previous_dispatch = events_dispatch_through(lambda subscription, payload: None)
    previous_send = jobs_send_through(lambda job_id, queue: None)
    yield
    events_dispatch_through(previous_dispatch)
    jobs_send_through(previous_send)


@pytest.fixture
def api():
    """api(user) -> an APIClient logged in as `user` (token-less, session-free force_authenticate)."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return client_for


@pytest.fixture
def sent_events():
    """The tasks that emitted events would queue, as (task name, kwargs), captured instead of going to the broker.
    tests/test_events.py shows the same events reach their handlers through a real worker."""
    sent: list[tuple[str, dict]] = []
    previous = events_dispatch_through(lambda subscription, payload: sent.append((subscription.task_name, payload)))
    yield sent
    events_dispatch_through(previous)


@pytest.fixture(scope="session")
def magnetic_tile() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared magnetic-tile data not found at {SHARED_DATA}")
    return SHARED_DATA


def worker_start(*, queues: str = "celery", log_name: str = "worker.log") -> subprocess.Popen:
    """Start a real `celery worker` process on the test database and wait until it is ready.

    Call it with the database set up (inside a django_db test or with the db blocker open)."""
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "DJANGO_SETTINGS_MODULE": "defectlab.settings_test",
    }
    log_path = Path(os.environ["DEFECTLAB_VAR_DIR"]) / log_name
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            worker_command(pool="solo", concurrency=1, queues=queues),
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
    while b"ready." not in log_path.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise RuntimeError(f"celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return worker


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` process consuming from the real Redis, writing to the test database."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in broker.scan_iter(f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}*"):
        broker.delete(key)  # this session's keys only: another session may share the Redis database
    with django_db_blocker.unblock():
        worker = worker_start()
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (a test tool's own browser download does not work offline)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are still
    # synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def logged_in_page(browser, live_server):
    """page_for(username) -> a Playwright page logged in through the real login form (password "pass")."""
    contexts = []

    def page_for(username: str):
        # Playwright evaluates wait_for_function's string predicates with eval inside the page, which the
        # Content-Security-Policy forbids; tests/test_browser_csp.py checks the pages under the enforced policy.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pass")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield page_for
    for context in contexts:
        context.close()
