"""The QA page computes its statistics live while that is quick, and shows the stored ones, with their age, once
computing them takes longer than DEFECTLAB_QA_STATISTICS_LIVE_MS (a million images: seconds)."""

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from qa.models import QaStatisticsSnapshot
from qa.services.statistics import qa_statistics_refresh, qa_statistics_refresh_all
from qa.tests.factories import annotate, assigned_image, square, submit_all
from tests.factories import ProjectFactory


def compared_image(team, inspector2, *, seed: int, shift: int) -> None:
    image = assigned_image(team, team.inspector, inspector2, seed=seed)
    annotate(team.inspector, image, square(x=10))
    annotate(inspector2, image, square(x=10 + shift))
    submit_all(image, team.inspector, inspector2)


def page_statistics(team) -> tuple[dict, str]:
    """The tables the QA page embeds for its plots, and the page's text."""
    client = Client()
    client.force_login(team.senior)
    response = client.get(reverse("qa-project-page", args=[team.project.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="qa-statistics" type="application/json">') + len(
        '<script id="qa-statistics" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)]), html


@pytest.mark.django_db
def test_a_quick_computation_is_done_for_every_view(team, inspector2):
    # given: statistics stored, then one more compared image
    compared_image(team, inspector2, seed=1, shift=1)
    qa_statistics_refresh(project=team.project)
    compared_image(team, inspector2, seed=2, shift=5)
    # when
    tables, html = page_statistics(team)
    # then: live, so the second image counts, and no age is shown
    assert tables["calibration"]["compared_images"] == 2
    assert 'id="statistics-age"' not in html


@pytest.mark.django_db
@override_settings(DEFECTLAB_QA_STATISTICS_LIVE_MS=0)  # every computation counts as slow
def test_a_slow_computation_is_shown_as_stored_with_its_age(team, inspector2):
    # given
    compared_image(team, inspector2, seed=1, shift=1)
    stored = qa_statistics_refresh(project=team.project)
    compared_image(team, inspector2, seed=2, shift=5)
    # when
    tables, html = page_statistics(team)
    # then: the stored tables, as the refresh computed them, and when that was
    assert tables == stored.tables
    assert tables["calibration"]["compared_images"] == 1
    assert 'id="statistics-age"' in html
    assert "computed in the background, every 5.0 minutes" in html
    # and the calibration count above the tables is live (one cheap count)
    assert "2 / 200</span>calibration images compared" in html


@pytest.mark.django_db
def test_the_periodic_refresh_computes_every_project(team, inspector2):
    # given
    compared_image(team, inspector2, seed=1, shift=1)
    other = ProjectFactory.create(name="Press line", slug="press-line")
    # when
    refreshed = qa_statistics_refresh_all()
    # then
    snapshots = {snapshot.project_id: snapshot for snapshot in QaStatisticsSnapshot.objects.all()}
    assert refreshed == len(snapshots) >= 2
    assert snapshots[team.project.pk].tables["calibration"]["compared_images"] == 1
    assert snapshots[other.pk].tables["annotators"] == []
    assert snapshots[team.project.pk].compute_ms > 0
