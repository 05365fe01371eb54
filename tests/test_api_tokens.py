"""API tokens as an attacker meets them: a database dump without keys, stolen tokens that expire or die with a
password change, and users who see and revoke their own tokens only."""

import hashlib
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from defectlab.accounts.models import ApiToken
from defectlab.accounts.services import api_token_create
from defectlab.api.authentication import TokenAuthentication

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects/"


def token_for(username: str, password: str = "pass", **data: str) -> dict:  # noqa: S107 - the test password
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **data})
    assert response.status_code == 200, response.content
    return response.json()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_database_keeps_no_key(team):
    # given
    body = token_for("inspector", name="nightly export")
    # when: everything the tokens table holds, as a dump would show it
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        dumped = " ".join(str(value) for row in cursor.fetchall() for value in row)
    # then
    assert body["token"] not in dumped
    assert ApiToken.objects.get().digest == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["prefix"] == body["token"][:8]
    assert with_token(body["token"]).get(PROJECTS).status_code == 200


def test_a_digest_from_a_dump_is_no_token(team):
    # given: the attacker read the table
    token_for("inspector")
    digest = ApiToken.objects.get().digest
    # when
    response = with_token(digest).get(PROJECTS)
    # then
    assert (response.status_code, response.json()["message"]) == (401, "Invalid token.")


def test_obtaining_a_token_answers_the_whole_body(team):
    # when
    before = timezone.now()
    body = token_for("inspector", name="nightly export")
    # then
    token = ApiToken.objects.get()
    assert body == {
        "id": token.pk,
        "prefix": body["token"][:8],
        "name": "nightly export",
        "created_at": body["created_at"],
        "created_from": "127.0.0.1",
        "expires_at": body["expires_at"],
        "token": body["token"],
    }
    assert len(body["token"]) == 43
    assert token.expires_at - token.created_at == timedelta(days=30)
    assert token.created_at >= before


def test_an_expired_token_is_refused(team):
    # given
    key = token_for("inspector")["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # when
    response = with_token(key).get(PROJECTS)
    # then
    assert (response.status_code, response.json()) == (
        401,
        {"code": "authentication_failed", "message": "Token expired: ask for a new one."},
    )


@override_settings(DEFECTLAB_API_TOKEN_LIFETIME_SECONDS=3600)
def test_the_lifetime_is_a_setting(team):
    # when
    token, _ = api_token_create(user=team.inspector)
    # then
    assert token.expires_at - token.created_at == timedelta(hours=1)


def test_a_password_change_kills_every_older_token(team):
    # given: two scripts hold tokens; then the password changes (say, after a leak)
    stolen = token_for("inspector")["token"]
    other = token_for("inspector")["token"]
    team.inspector.set_password("N3w-and-l0ng-enough")
    team.inspector.save()
    # when
    responses = [with_token(key).get(PROJECTS) for key in (stolen, other)]
    fresh = token_for("inspector", "N3w-and-l0ng-enough")["token"]
    # then
    assert [(response.status_code, response.json()["message"]) for response in responses] == [
        (401, "Token revoked: the password was changed since.")
    ] * 2
    assert with_token(fresh).get(PROJECTS).status_code == 200
    assert [token["prefix"] for token in with_token(fresh).get("/api/v1/auth/tokens/").json()] == [fresh[:8]]
    assert ApiToken.objects.count() == 1, "the dead tokens were deleted when the new one was made"


def test_a_password_set_in_the_django_admin_kills_tokens_too(team):
    # given
    key = token_for("inspector")["token"]
    site_admin = Client()
    site_admin.force_login(team.admin.__class__.objects.create_superuser("root", password="R00t-password-long"))
    # when
    response = site_admin.post(
        f"/admin/auth/user/{team.inspector.pk}/password/",
        {"password1": "Fresh-passw0rd-2026", "password2": "Fresh-passw0rd-2026"},
    )
    # then
    assert response.status_code == 302
    assert with_token(key).get(PROJECTS).status_code == 401


@override_settings(SECRET_KEY="new-secret-key-after-rotation", SECRET_KEY_FALLBACKS=["test-only-secret-key"])
def test_rotating_the_secret_key_keeps_tokens(team):
    # given: made under the old key (settings_test's), before the rotation
    with override_settings(SECRET_KEY="test-only-secret-key", SECRET_KEY_FALLBACKS=[]):
        _, key = api_token_create(user=team.inspector)
    # when / then
    assert with_token(key).get(PROJECTS).status_code == 200


def test_authenticating_a_token_is_one_query(team, django_assert_num_queries):
    # given
    _, key = api_token_create(user=team.inspector)
    # when
    with django_assert_num_queries(1):
        user, token = TokenAuthentication().authenticate_credentials(key)
    # then
    assert (user, token.user_id) == (team.inspector, team.inspector.pk)


def test_a_user_lists_their_own_working_tokens_without_keys(team):
    # given
    first, first_key = api_token_create(user=team.inspector, name="first")
    second, second_key = api_token_create(user=team.inspector, name="second", created_from="10.0.0.7")
    expired, _ = api_token_create(user=team.inspector, name="expired")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_token_create(user=team.senior, name="not yours")
    # when
    listed = with_token(first_key).get("/api/v1/auth/tokens/").json()
    # then
    assert listed == [
        {
            "id": second.pk,
            "prefix": second_key[:8],
            "name": "second",
            "created_at": listed[0]["created_at"],
            "created_from": "10.0.0.7",
            "expires_at": listed[0]["expires_at"],
        },
        {
            "id": first.pk,
            "prefix": first_key[:8],
            "name": "first",
            "created_at": listed[1]["created_at"],
            "created_from": None,
            "expires_at": listed[1]["expires_at"],
        },
    ]


def test_a_user_revokes_a_token_and_it_stops_at_once(team):
    # given
    leaked, leaked_key = api_token_create(user=team.inspector)
    _, other_key = api_token_create(user=team.inspector)
    # when
    response = with_token(other_key).delete(f"/api/v1/auth/tokens/{leaked.pk}/")
    # then
    assert response.status_code == 204
    assert with_token(leaked_key).get(PROJECTS).status_code == 401
    assert with_token(other_key).get(PROJECTS).status_code == 200


def test_a_user_cannot_revoke_another_users_token(team, api):
    # given
    victim, victim_key = api_token_create(user=team.senior)
    # when
    theirs = api(team.inspector).delete(f"/api/v1/auth/tokens/{victim.pk}/")
    missing = api(team.inspector).delete(f"/api/v1/auth/tokens/{victim.pk + 1000}/")
    # then: the same answer as for a token that does not exist, and the token still works
    assert [(response.status_code, response.json()) for response in (theirs, missing)] == [
        (404, {"code": "not_found", "message": "No such token."})
    ] * 2
    assert with_token(victim_key).get(PROJECTS).status_code == 200


def test_even_a_site_admin_revokes_only_their_own_tokens_through_the_api(team, api):
    # given: site administrators revoke other people's tokens in the Django admin, not here
    victim, _ = api_token_create(user=team.senior)
    root = team.admin.__class__.objects.create_superuser("root", password="R00t-password-long")
    # when
    response = api(root).delete(f"/api/v1/auth/tokens/{victim.pk}/")
    # then
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=victim.pk).exists()


@override_settings(DEFECTLAB_API_TOKENS_PER_USER=3)
def test_a_script_asking_for_tokens_in_a_loop_cannot_pile_them_up(team):
    # when
    keys = [token_for("inspector")["token"] for _ in range(5)]
    # then: the three newest are kept
    assert sorted(ApiToken.objects.values_list("prefix", flat=True)) == sorted(key[:8] for key in keys[2:])
    assert with_token(keys[0]).get(PROJECTS).status_code == 401
    assert with_token(keys[4]).get(PROJECTS).status_code == 200


def test_the_project_list_page_shows_and_revokes_ones_own_tokens(team):
    # given
    mine, mine_key = api_token_create(user=team.inspector, name="nightly export")
    theirs, _ = api_token_create(user=team.senior, name="senior's script")
    browser = Client()
    browser.force_login(team.inspector)
    # when
    page = browser.get("/").content.decode()
    refused = browser.post(f"/account/tokens/{theirs.pk}/revoke/")
    revoked = browser.post(f"/account/tokens/{mine.pk}/revoke/")
    # then
    assert "nightly export" in page
    assert mine_key[:8] in page
    assert "senior&#x27;s script" not in page
    assert mine_key not in page
    assert refused.status_code == 404
    assert (revoked.status_code, revoked["Location"]) == (302, "/")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_the_project_list_page_has_no_token_section_without_tokens(team, client):
    # given
    client.force_login(team.inspector)
    # when
    page = client.get("/").content.decode()
    # then
    assert 'id="api-tokens"' not in page


def test_drf_tokens_from_before_are_hashed_and_keep_working(team):
    # given: the table of rest_framework.authtoken, with a plain-text key, as an upgraded database has it
    migration = import_module("defectlab.accounts.migrations.0002_hash_plain_tokens")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
            "user_id bigint NOT NULL)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, team.inspector.pk])
    # when
    with connection.schema_editor() as schema_editor:
        migration.hash_plain_tokens(django_apps, schema_editor)
    # then
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert ApiToken.objects.get().digest == hashlib.sha256(old_key.encode()).hexdigest()
    assert with_token(old_key).get(PROJECTS).status_code == 200
