"""Guessing passwords, as an attacker would: on the login page and on POST /api/v1/auth/token/.

Failures count per username and per client address (defectlab/accounts/logins.py). Limits in these tests are
the defaults: 5 per username, 20 per address, over 15 minutes."""

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from defectlab.accounts.logins import LOCKOUT_PARAMETERS
from defectlab.accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GUESSES = 30
LOCKED_MESSAGE = (
    "Too many failed logins for this username or from this address. "
    "Try again in 15 minutes, or ask an administrator to lift the lock-out."
)


def page_login(username: str, password: str, address: str = "127.0.0.1", **headers: Any):
    return Client(REMOTE_ADDR=address, **headers).post("/login/", {"username": username, "password": password})


def token_login(username: str, password: str, address: str = "127.0.0.1", **headers: Any):
    return APIClient(REMOTE_ADDR=address, **headers).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def is_logged_in(response) -> bool:
    """A page login that worked redirects to the project list; a token login answers 200 with a token."""
    if response["Content-Type"].startswith("text/html"):
        return response.status_code == 302 and response["Location"] == "/"
    return response.status_code == 200 and "token" in response.json()


def test_settings_count_username_and_address_apart():
    from django.conf import settings

    assert settings.AXES_LOCKOUT_PARAMETERS == LOCKOUT_PARAMETERS == ["username", "ip_address"]
    limits = (settings.DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME, settings.DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS)
    assert limits == (5, 20)


@pytest.mark.parametrize("login", [page_login, token_login], ids=["login-page", "token"])
def test_thirty_wrong_passwords_then_the_right_one_is_refused(team, login):
    # when
    guesses = [login("admin", f"guess-{number}") for number in range(GUESSES)]
    right = login("admin", "pass")
    # then
    assert not any(is_logged_in(response) for response in guesses)
    assert right.status_code == 429
    assert not is_logged_in(right)
    assert ApiToken.objects.count() == 0


def test_lock_out_page_says_why_and_keeps_the_form(team):
    # given
    for number in range(5):
        page_login("admin", f"guess-{number}")
    # when
    page = page_login("admin", "pass")
    # then
    assert page.status_code == 429
    assert LOCKED_MESSAGE in page.content.decode()
    assert b'name="password"' in page.content
    assert "_auth_user_id" not in page.wsgi_request.session


def test_lock_out_answer_of_the_token_path_is_json(team):
    # given
    for number in range(5):
        token_login("admin", f"guess-{number}")
    # when
    response = token_login("admin", "pass")
    # then
    assert (response.status_code, response.json()) == (429, {"code": "login_locked_out", "message": LOCKED_MESSAGE})


def test_four_wrong_passwords_still_let_the_owner_in(team):
    # given: the owner mistyped, under the limit
    for number in range(4):
        assert page_login("admin", f"typo-{number}").status_code == 200
    # when / then
    assert is_logged_in(page_login("admin", "pass"))


def test_guesses_on_one_path_count_on_the_other(team):
    # given: three guesses on the login page, two for a token
    for number in range(3):
        page_login("admin", f"guess-{number}")
    for number in range(2):
        token_login("admin", f"guess-{number}")
    # when
    response = token_login("admin", "pass")
    # then
    assert response.status_code == 429


def test_an_unknown_username_locks_like_a_real_one(team):
    # given: the lock-out must not tell which usernames exist
    answers = {}
    for username in ("admin", "no-such-user"):
        for number in range(5):
            token_login(username, f"guess-{number}", address=f"10.0.0.{len(answers) + 1}")
        answers[username] = token_login(username, "pass", address=f"10.0.0.{len(answers) + 1}")
    # then
    assert [(response.status_code, response.json()) for response in answers.values()] == [
        (429, {"code": "login_locked_out", "message": LOCKED_MESSAGE})
    ] * 2


def test_one_address_spraying_many_usernames_is_locked_out(team):
    # given: one wrong password for each of twenty usernames, from one address
    for number in range(20):
        token_login(f"user-{number}", "Winter2026!", address="10.9.9.9")
    # when
    from_sprayer = token_login("inspector", "pass", address="10.9.9.9")
    from_elsewhere = token_login("inspector", "pass", address="10.1.1.1")
    # then
    assert from_sprayer.status_code == 429
    assert is_logged_in(from_elsewhere)


def test_rotating_x_forwarded_for_does_not_dodge_the_address_limit(team):
    # given: no trusted proxy is configured, so X-Forwarded-For is the attacker's to write
    for number in range(20):
        token_login(f"user-{number}", "Winter2026!", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
    # when
    response = token_login("inspector", "pass", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # then
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_trusted_proxy_the_address_it_appended_counts(team):
    # given: the proxy (REMOTE_ADDR 10.0.0.2) appends the address it saw; the client forged the entries before it
    proxy = {"address": "10.0.0.2"}
    for number in range(20):
        token_login(f"user-{number}", "Winter2026!", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}, 192.0.2.66", **proxy)
    # when
    sprayer = token_login("inspector", "pass", HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.66", **proxy)
    colleague = token_login("inspector", "pass", HTTP_X_FORWARDED_FOR="192.0.2.10", **proxy)
    # then: the sprayer is locked whatever it forges; another user behind the same proxy is not
    assert sprayer.status_code == 429
    assert is_logged_in(colleague)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.66"}


def test_a_site_admin_lifts_the_lock_out_in_the_django_admin(team):
    # given
    for number in range(GUESSES):
        page_login("inspector", f"guess-{number}")
    assert page_login("inspector", "pass").status_code == 429
    site_admin = Client()
    site_admin.force_login(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    attempts = list(AccessAttempt.objects.filter(username="inspector").values_list("pk", flat=True))
    # when
    listing = site_admin.get("/admin/axes/accessattempt/?q=inspector")
    lifted = site_admin.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}
    )
    # then
    assert listing.status_code == 200
    assert lifted.status_code == 302
    assert not AccessAttempt.objects.filter(username="inspector").exists()
    assert is_logged_in(page_login("inspector", "pass"))
    assert is_logged_in(token_login("inspector", "pass"))


def test_a_site_admin_lifts_the_lock_out_from_the_command_line(team):
    # given
    for number in range(5):
        token_login("inspector", f"guess-{number}")
    # when
    call_command("axes_reset_username", "inspector")
    # then
    assert is_logged_in(token_login("inspector", "pass"))


def test_project_admins_cannot_reach_the_lock_outs(team, client):
    # given: a project admin is no site administrator
    client.force_login(team.admin)
    # when
    response = client.get("/admin/axes/accessattempt/")
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_lock_out_ends_after_the_window(team):
    # given: locked out, then quiet for a little over 15 minutes
    for number in range(5):
        token_login("admin", f"guess-{number}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    # when / then
    assert is_logged_in(token_login("admin", "pass"))


def test_a_try_while_locked_out_starts_the_wait_again(team):
    # given: locked out 14 minutes ago
    for number in range(5):
        token_login("admin", f"guess-{number}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    # when: one more guess a minute before the lock-out would have ended
    refused = token_login("admin", "another-guess")
    # then: the 15 minutes count from this try
    assert refused.status_code == 429
    assert AccessAttempt.objects.get().attempt_time > timezone.now() - timedelta(minutes=1)
