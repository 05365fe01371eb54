"""Consensus review: anyone flags, a senior decides, a decision can become a precedent the editor shows."""

import pytest

from qa.models import EdgeCase, EdgeCaseStatus
from qa.services.edge_cases import edge_case_decide, edge_case_flag
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


def test_a_flag_needs_no_note(team, api):
    # given
    image = assigned_image(team, team.inspector)
    # when
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/edge-cases/", {}, format="json")
    # then
    assert response.status_code == 201, response.json()
    assert EdgeCase.objects.get(pk=response.json()["id"]).note == ""


def test_precedents_say_whether_the_user_may_open_their_image(team, api, inspector2):
    # given: two decided precedents of the crack class, one on an image assigned to the inspector
    mine = assigned_image(team, team.inspector, seed=1)
    theirs = assigned_image(team, inspector2, seed=2)
    precedents = []
    for image, decision in ((mine, "A glaze line is not a crack."), (theirs, "A hairline crack counts.")):
        edge_case = edge_case_flag(user=team.senior, image_id=image.pk, note="crack?")
        precedents.append(
            edge_case_decide(
                user=team.senior,
                edge_case_id=edge_case.pk,
                decision=decision,
                precedent_defect_class_id=team.defect_class.pk,
            )
        )
    path = f"/api/v1/projects/{team.project.pk}/precedents/?defect_class={team.defect_class.pk}"
    # when
    by_inspector = api(team.inspector).get(path).json()
    by_senior = api(team.senior).get(path).json()
    # then: the whole body the editor reads (newest decision first within a class)
    decided_at = {precedent.pk: precedent.decided_at for precedent in precedents}

    def expected(precedent, decision: str, can_open_image: bool) -> dict:
        return {
            "id": precedent.pk,
            "defect_class_id": team.defect_class.pk,
            "defect_class": "crack",
            "image_id": precedent.image_id,
            "can_open_image": can_open_image,
            "note": "crack?",
            "decision": decision,
            "decided_by": "senior",
            "decided_at": decided_at[precedent.pk].isoformat().replace("+00:00", "Z"),
        }

    assert by_inspector == [
        expected(precedents[1], "A hairline crack counts.", can_open_image=False),
        expected(precedents[0], "A glaze line is not a crack.", can_open_image=True),
    ]
    assert [item["can_open_image"] for item in by_senior] == [True, True]
