"""Weak passwords are refused wherever a password is set through Django (the admin, `changepassword`,
`createsuperuser`): Django's four validators are on."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Xy7#q", "password_too_short"),  # MinimumLengthValidator: under 8 characters
        ("password1", "password_too_common"),  # CommonPasswordValidator: in the list of 20,000 common ones
        ("49271836450", "password_entirely_numeric"),  # NumericPasswordValidator
        ("inspector-mill", "password_too_similar"),  # UserAttributeSimilarityValidator: close to the username
    ],
)
def test_each_validator_refuses_its_weak_password(password, code):
    # given
    user = UserFactory.build(username="inspector-mill", email="anna@plant.example")
    # when
    with pytest.raises(ValidationError) as error:
        validate_password(password, user)
    # then
    assert code in [item.code for item in error.value.error_list]


def test_a_long_unusual_password_passes():
    validate_password("tile-kiln-7-marble-otter", UserFactory.build(username="inspector-mill"))


def test_the_admin_refuses_to_set_a_weak_password(team):
    # given: a site administrator sets the inspector's password to the username
    site_admin = Client()
    site_admin.force_login(UserFactory.create(username="root", is_superuser=True, is_staff=True))
    hash_before = team.inspector.password
    # when
    page = site_admin.post(
        f"/admin/auth/user/{team.inspector.pk}/password/", {"password1": "inspector", "password2": "inspector"}
    )
    # then
    assert page.status_code == 200
    content = page.content.decode()
    assert "The password is too similar to the username." in content
    assert "This password is too short." not in content  # 9 characters: long enough
    team.inspector.refresh_from_db()
    assert team.inspector.password == hash_before
