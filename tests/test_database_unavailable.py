"""A database connection lost under a request, or a database that is down, answers 503 with Retry-After.

As the fault probe did it: the request's PostgreSQL backend is terminated from another connection
(`pg_terminate_backend`) while the request runs, or the server is unreachable (the connection settings point at a
port nothing listens on, as while PostgreSQL restarts). The API answers JSON `database_unavailable`, pages a short
page; neither is a 500, which the editor could not tell from a bug.

These tests need their own connection to be killed, so they run outside the per-test transaction
(transaction=True) and close the dead connection afterwards.
"""

import time
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client, override_settings
from rest_framework.test import APIClient

from annotation.api import images as images_api
from annotation.models import Assignment
from annotation.services.images import assignments_create
from frontend import views as pages
from tests.factories import image_create

API_BODY = {
    "code": "database_unavailable",
    "message": "The database is not answering just now. Nothing was lost on this side; try again in a few seconds.",
    "retry_after_seconds": 5,
}
UNREACHABLE_PORT = "9"  # discard: nothing listens there, so a connection is refused at once


def backend_terminate() -> None:
    """Kill this connection's PostgreSQL backend from another connection, and wait until it is gone."""
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    conninfo: dict[str, Any] = {
        key: settings[name] or None for key, name in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD"))
    }
    with psycopg.connect(**conninfo, host=settings["HOST"], port=settings["PORT"], autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.05)
    raise AssertionError(f"backend {pid} is still running")


@pytest.fixture
def killable_connection(transactional_db):
    """The default connection, reopened after the test so the database can be flushed."""
    yield connection
    connection.close()


@pytest.fixture
def assigned_work(team, killable_connection):
    image = image_create(project=team.project, seed=3, name="assigned.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return image


def killed_while_running(function):
    """`function`, but the request's database backend is terminated just before it runs."""

    def killed(*args, **kwargs):
        backend_terminate()
        return function(*args, **kwargs)

    return killed


def test_api_request_whose_connection_is_killed_gets_503_with_retry_after(team, assigned_work, monkeypatch):
    # given: the inspector's queue request loses its database connection halfway
    client = APIClient()
    client.force_authenticate(team.inspector)
    monkeypatch.setattr(
        images_api, "assignment_list_for_annotator", killed_while_running(images_api.assignment_list_for_annotator)
    )
    # when
    response = client.get("/api/v1/queue/")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == API_BODY


def test_api_write_whose_connection_is_killed_gets_503_and_changes_nothing(team, assigned_work, monkeypatch):
    # given: a submit whose service runs on a connection that has just been killed
    client = APIClient()
    client.force_authenticate(team.inspector)
    monkeypatch.setattr(images_api, "assignment_submit", killed_while_running(images_api.assignment_submit))
    # when
    response = client.post(f"/api/v1/images/{assigned_work.pk}/submit/")
    # then
    assert (response.status_code, response["Retry-After"], response.json()["code"]) == (
        503,
        "5",
        "database_unavailable",
    )
    connection.close()
    assert Assignment.objects.get(image=assigned_work).status == "assigned"


def test_page_whose_connection_is_killed_gets_a_503_page(team, assigned_work, monkeypatch):
    # given: the project list page loses its connection while it reads the projects
    client = Client()
    client.force_login(team.inspector)
    monkeypatch.setattr(pages, "project_list_for_user", killed_while_running(pages.project_list_for_user))
    # when
    response = client.get("/")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"The database is not answering just now" in response.content


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/v1/queue/", "application/json"), ("/queue/", "text/html; charset=utf-8")],
)
def test_a_database_that_is_down_gets_503_for_api_and_pages(team, killable_connection, path, content_type):
    # given: logged in, then the database stops answering (connections are refused)
    client = Client()
    client.force_login(team.inspector)
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = UNREACHABLE_PORT
    try:
        # when
        response = client.get(path)
    finally:
        connection.settings_dict["PORT"] = port
        connection.close()
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == content_type


class KillOnTheWayOut:
    """Runs a query after the view, as SessionMiddleware does when it saves a changed session, on a connection
    that has just been killed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        backend_terminate()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return response


def test_connection_lost_in_middleware_after_the_view_gets_503(team, killable_connection, settings):
    # given
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_database_unavailable.KillOnTheWayOut"]
    client = Client(raise_request_exception=False)  # Django reports the exception before handler500 answers
    client.force_login(team.inspector)
    # when
    response = client.get("/api/v1/queue/")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == API_BODY


@override_settings(DEBUG=False)
def test_other_database_errors_stay_500s(team, killable_connection, monkeypatch):
    # given: a query the database refuses for what it asks (a bug), not for being unavailable
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(team.inspector)

    def broken(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(images_api, "assignment_list_for_annotator", broken)
    # when
    response = client.get("/api/v1/queue/")
    # then
    assert response.status_code == 500
