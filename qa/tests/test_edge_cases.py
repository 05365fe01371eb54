"""Consensus review: anyone flags, a senior decides, a decision can become a precedent the editor shows."""

import pytest

from qa.models import EdgeCaseStatus
from qa.tests.factories import assigned_image

pytestmark = pytest.mark.django_db


def test_an_inspector_flags_a_senior_decides_and_the_precedent_is_listed_for_the_editor(team, api):
    # given
    image = assigned_image(team, team.inspector)
    # when
    flagged = api(team.inspector).post(f"/api/v1/images/{image.pk}/edge-cases/", {"note": "Crack or glaze line?"})
    refused = api(team.inspector).post(f"/api/v1/qa/edge-cases/{flagged.json()['id']}/decide/", {"decision": "x"})
    decided = api(team.senior).post(
        f"/api/v1/qa/edge-cases/{flagged.json()['id']}/decide/",
        {
            "decision": "A glaze line is not a crack: it has no depth.",
            "precedent_defect_class_id": team.defect_class.pk,
        },
    )
    precedents = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/precedents/")
    # then
    assert flagged.status_code == 201, flagged.json()
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert (decided.status_code, decided.json()["status"], decided.json()["decided_by"]) == (
        200,
        EdgeCaseStatus.DECIDED,
        "senior",
    )
    body = precedents.json()
    assert [{key: item[key] for key in ("defect_class", "image_id", "note", "decision")} for item in body] == [
        {
            "defect_class": "crack",
            "image_id": image.pk,
            "note": "Crack or glaze line?",
            "decision": "A glaze line is not a crack: it has no depth.",
        }
    ]


def test_inspectors_cannot_flag_images_outside_their_queue_and_see_only_their_own_flags(team, api, inspector2):
    # given
    mine = assigned_image(team, team.inspector, seed=1)
    theirs = assigned_image(team, inspector2, seed=2)
    api(inspector2).post(f"/api/v1/images/{theirs.pk}/edge-cases/", {"note": "odd reflection"})
    # when
    outside = api(team.inspector).post(f"/api/v1/images/{theirs.pk}/edge-cases/", {"note": "?"})
    api(team.inspector).post(f"/api/v1/images/{mine.pk}/edge-cases/", {"note": "stain or pore?"})
    own_list = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/qa/edge-cases/").json()["results"]
    senior_list = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/qa/edge-cases/").json()["results"]
    # then
    assert outside.status_code == 404
    assert [item["note"] for item in own_list] == ["stain or pore?"]
    assert [item["note"] for item in senior_list] == ["odd reflection", "stain or pore?"]
