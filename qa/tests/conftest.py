import pytest

from qa.tests.factories import second_inspector


@pytest.fixture
def inspector2(team):
    return second_inspector(team)
