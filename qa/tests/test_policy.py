"""The QA policy: defaults, versions on every edit, checked values; admins edit, everyone reads."""

import pytest

from qa.models import QaPolicy

pytestmark = pytest.mark.django_db


def test_defaults_before_anyone_saved_a_policy(team, api):
    # when
    body = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/qa/policy/").json()
    # then
    assert {key: body[key] for key in body if key not in ("created_at", "seed")} == {
        "version": 0,
        "calibration_image_count": 200,
        "calibration_compared_images": 0,
        "spot_check_rate": 0.1,
        "dual_annotation_rate": 0.0,
        "mask_iou_threshold": 0.7,
        "box_iou_threshold": 0.75,
        "image_agreement_rate": 0.95,
        "keypoint_tolerance_px": 5.0,
        "severity_tolerance_ranks": 0,
        "class_rules": {},
        "note": "",
        "created_by": None,
    }


def test_each_edit_adds_a_version_and_keeps_the_old_one(team, api):
    # given
    path = f"/api/v1/projects/{team.project.pk}/qa/policy/"
    # when
    first = api(team.admin).put(path, {"spot_check_rate": 0.15, "note": "busier line"})
    second = api(team.admin).put(
        path, {"class_rules": {str(team.defect_class.pk): {"measure": "box", "iou_threshold": 0.8}}}
    )
    # then
    assert (first.status_code, first.json()["version"], first.json()["created_by"]) == (200, 2, "admin")
    assert second.json()["version"] == 3
    assert list(QaPolicy.objects.order_by("version").values_list("version", "spot_check_rate", "class_rules")) == [
        (1, 0.1, {}),
        (2, 0.15, {}),
        (3, 0.15, {str(team.defect_class.pk): {"measure": "box", "iou_threshold": 0.8}}),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spot_check_rate": 1.5}, "spot_check_rate: Ensure this value is less than or equal to 1."),
        (
            {"class_rules": {"999999": {"measure": "box"}}},
            "class_rules: '999999' is not a defect class of this project.",
        ),
        ({"class_rules": {"CLASS": {"measure": "mesh"}}}, None),
    ],
)
def test_bad_values_are_refused(team, api, body, message):
    # when
    response = api(team.admin).put(f"/api/v1/projects/{team.project.pk}/qa/policy/", body, format="json")
    # then
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    if message:
        assert response.json()["message"] == message
    assert not QaPolicy.objects.filter(version__gt=1).exists()


@pytest.mark.parametrize("role", ["inspector", "senior", "ml_engineer"])
def test_only_admins_edit_the_policy(team, api, role):
    response = api(team.member(role)).put(f"/api/v1/projects/{team.project.pk}/qa/policy/", {"spot_check_rate": 0.5})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
