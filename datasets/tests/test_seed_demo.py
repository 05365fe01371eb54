"""seed_demo on a real installation: demo users are accounts anyone who reads the source could log in to."""

import io
import re
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from annotation.models import Membership, Role
from datasets.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = [username for username, _, _ in DEMO_USERS]
DEBUG_PASSWORDS = {username: password for username, password, _ in DEMO_USERS}


@pytest.fixture
def small_demo_data(magnetic_tile, tmp_path) -> Path:
    """Two labelled tiles and one defect-free tile, in the magnetic-tile layout."""
    for folder, count in (("blowhole", 2), ("free", 1)):
        (tmp_path / folder).mkdir()
        for jpeg in sorted((magnetic_tile / folder).glob("*.jpg"))[:count]:
            shutil.copy(jpeg, tmp_path / folder)
            if jpeg.with_suffix(".png").exists():
                shutil.copy(jpeg.with_suffix(".png"), tmp_path / folder)
    return tmp_path


def seed(data: Path, *arguments: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--data", str(data), *arguments, stdout=out)
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"^  (\S+)\s+(\S+)\s+\S+$", output, flags=re.MULTILINE))


def test_it_refuses_outside_debug_without_the_flag(small_demo_data):
    # when
    with pytest.raises(CommandError) as error:
        seed(small_demo_data)
    # then
    assert "--allow-production" in str(error.value)
    assert not get_user_model().objects.filter(username__in=DEMO_USERNAMES).exists()


def test_with_the_flag_demo_users_get_random_passwords_and_no_site_power(small_demo_data):
    # when
    output = seed(small_demo_data, "--allow-production")
    # then
    passwords = printed_passwords(output)
    assert sorted(passwords) == sorted(DEMO_USERNAMES)
    users = {user.username: user for user in get_user_model().objects.filter(username__in=DEMO_USERNAMES)}
    for username, password in passwords.items():
        assert password != DEBUG_PASSWORDS[username], "the password from the source must not work"
        assert len(password) >= 16
        assert users[username].check_password(password)
        assert not users[username].check_password(DEBUG_PASSWORDS[username])
    admin = users["admin"]
    assert (admin.is_superuser, admin.is_staff) == (False, False)
    assert Membership.objects.get(user=admin).role == Role.ADMIN
    assert not get_user_model().objects.filter(username__in=DEMO_USERNAMES, is_superuser=True).exists()


def test_a_second_run_prints_no_password_and_changes_none(small_demo_data):
    # given
    first = printed_passwords(seed(small_demo_data, "--allow-production"))
    # when
    output = seed(small_demo_data, "--allow-production")
    # then
    assert "  admin       (existing user, password unchanged)" in output
    assert get_user_model().objects.get(username="admin").check_password(first["admin"])


@override_settings(DEBUG=True)
def test_in_debug_it_runs_without_the_flag_and_prints_the_demo_passwords(small_demo_data):
    # when: what `DEFECTLAB_DEBUG=1 manage.py rundemo` does
    output = seed(small_demo_data)
    # then
    assert printed_passwords(output) == DEBUG_PASSWORDS
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(DEBUG_PASSWORDS["admin"])
    assert (admin.is_superuser, admin.is_staff) == (False, False)
