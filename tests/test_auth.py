"""Browser sessions need CSRF; scripts use tokens. Both reach the same permission checks."""

import pytest
from rest_framework.test import APIClient

from defectlab.accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def test_script_gets_a_token_and_uses_it(team):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "ml_engineer", "password": "pass"}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert [project["slug"] for project in client.get("/api/v1/projects/").json()] == ["tile-line"]


def test_wrong_password_gets_no_token(team):
    response = APIClient().post("/api/v1/auth/token/", {"username": "admin", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_session_write_without_csrf_token_is_refused(team):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(team.admin)
    response = client.patch(f"/api/v1/projects/{team.project.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    team.project.refresh_from_db()
    assert team.project.name == "Tile line"


def test_anonymous_requests_are_refused_with_a_message():
    response = APIClient().get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_api_docs_are_served_without_a_cdn(client, team):
    client.force_login(team.admin)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"cdn" not in page.content.lower()
    assert client.get("/api/schema/").status_code == 200


def test_unknown_token_is_refused_with_a_message(team):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."


def test_token_of_a_deactivated_user_is_refused(team):
    _, key = api_token_create(user=team.inspector)
    team.inspector.is_active = False
    team.inspector.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["message"] == "User inactive or deleted."


def test_deleted_token_stops_working_at_once(team):
    token, key = api_token_create(user=team.inspector)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/projects/").status_code == 200
    token.delete()
    assert client.get("/api/v1/projects/").status_code == 401
