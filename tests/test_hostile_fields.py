"""The hostile values the probe of the running server answered with a 500, sent again as an attacker would, to the
API and to the page forms. Each is refused with 400 (the API's `invalid`, or the form shown again with the reason)
and changes nothing; the largest value each column holds is still accepted."""

import json

import pytest
from django.test import Client

from annotation.models import DefectClass, Project, SeverityLevel
from datasets.models import DatasetVersion
from qa.models import QaPolicy
from tests.factories import UserFactory

NAMES_REFUSED = ["crack\x00", "crack\x1b[31m", "two\nlines", "carriage\rreturn", "tab\tbed", "line\u2028separator"]
INT32_MAX = 2**31 - 1


def refused(response) -> dict:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] in ("invalid", "parse_error"), body
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [2**70, 2**31, -(2**31) - 1])
def test_version_seed_beyond_its_column_is_refused_by_the_api(team, api, seed):
    # when
    response = api(team.ml_engineer).post(f"/api/v1/projects/{team.project.pk}/versions/", {"name": "v1", "seed": seed})
    # then
    assert "seed" in refused(response)["errors"]
    assert DatasetVersion.objects.count() == 0


@pytest.mark.django_db
def test_the_largest_seed_its_column_holds_is_accepted(team, api):
    response = api(team.ml_engineer).post(
        f"/api/v1/projects/{team.project.pk}/versions/", {"name": "v1", "seed": INT32_MAX}
    )
    assert response.status_code in (201, 202), response.content[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("position", [2**40, 2**31, -1])
def test_class_position_beyond_its_column_is_refused(team, api, position):
    # when
    response = api(team.admin).patch(f"/api/v1/defect-classes/{team.defect_class.pk}/", {"position": position})
    # then
    assert "position" in refused(response)["errors"]
    assert DefectClass.objects.get(pk=team.defect_class.pk).position == team.defect_class.position


@pytest.mark.django_db
def test_the_largest_position_its_column_holds_is_accepted(team, api):
    response = api(team.admin).patch(f"/api/v1/defect-classes/{team.defect_class.pk}/", {"position": INT32_MAX})
    assert (response.status_code, response.json()["position"]) == (200, INT32_MAX)


@pytest.mark.django_db
def test_qa_policy_calibration_count_beyond_its_column_is_refused(team, api):
    # given
    path = f"/api/v1/projects/{team.project.pk}/qa/policy/"
    versions_before = list(QaPolicy.objects.values_list("version", flat=True))
    # when
    response = api(team.admin).put(path, {"calibration_image_count": 52_198_789_665})
    # then
    assert "calibration_image_count" in refused(response)["errors"]
    assert list(QaPolicy.objects.values_list("version", flat=True)) == versions_before


@pytest.mark.django_db
def test_partial_patch_of_severity_levels_without_a_name_is_refused(team, api):
    # when: a level with only a criterion, in a PATCH that changes nothing else
    response = api(team.admin).patch(
        f"/api/v1/defect-classes/{team.defect_class.pk}/", {"severity_levels": [{"criterion": "deeper than 1 mm"}]}
    )
    # then
    refused(response)
    assert list(SeverityLevel.objects.filter(defect_class=team.defect_class).values_list("name", flat=True)) == [
        "minor"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"text":' * 100_000 + b'"x"' + b"}" * 100_000],
    ids=["arrays", "objects"],
)
def test_json_body_nested_100000_levels_deep_is_a_400(team, api, body):
    # when
    response = api(team.admin).generic(
        "POST", f"/api/v1/projects/{team.project.pk}/defect-classes/", body, content_type="application/json"
    )
    # then
    assert refused(response)["code"] == "parse_error"
    assert DefectClass.objects.filter(project=team.project).count() == 1


@pytest.mark.django_db
def test_json_body_nested_just_past_the_limit_is_refused_before_anything_recurses_over_it(team, api):
    # given: 33 levels parse in Python, but are past the API's limit (a geometry needs 6)
    geometry: object = [[0, 0]]
    for _ in range(31):
        geometry = [geometry]
    body = json.dumps({"defect_class_id": team.defect_class.pk, "geometry": {"polygons": geometry}})
    # when
    response = api(team.admin).generic(
        "POST", f"/api/v1/projects/{team.project.pk}/defect-classes/", body, content_type="application/json"
    )
    # then
    assert "nested more than 32 levels deep" in refused(response)["message"]


@pytest.mark.django_db
def test_a_lone_surrogate_echoed_by_a_choice_error_is_refused_before_it_can_break_the_answer(team, api):
    # given: a valid JSON escape that is not text; the choice's error message would repeat it, unencodable
    body = '{"name": "pore", "geometry_kind": "\\ud800"}'
    # when
    response = api(team.admin).generic(
        "POST", f"/api/v1/projects/{team.project.pk}/defect-classes/", body, content_type="application/json"
    )
    # then
    assert "lone surrogate" in refused(response)["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["[" * 100_000, '{"1": {"measure": "box", "iou_threshold": NaN}}'])
def test_json_typed_into_a_form_field_is_bounded_like_a_json_body(team, api, text):
    # when: class_rules posted as a form field, whose JSON the API parses itself
    response = api(team.admin).put(
        f"/api/v1/projects/{team.project.pk}/qa/policy/", {"class_rules": text}, format="multipart"
    )
    # then
    assert "class_rules" in refused(response)["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["²", "١", "1" * 5000])
def test_class_rules_keyed_by_digits_that_are_not_a_class_id_are_refused(team, api, key):
    response = api(team.admin).put(
        f"/api/v1/projects/{team.project.pk}/qa/policy/", {"class_rules": {key: {"measure": "box"}}}
    )
    refused(response)


@pytest.mark.django_db
def test_split_into_ten_thousand_classes_is_refused(team, api):
    # when
    response = api(team.admin).post(
        f"/api/v1/defect-classes/{team.defect_class.pk}/split/", {"into": [f"crack {n}" for n in range(10_001)]}
    )
    # then
    assert "into" in refused(response)["errors"]
    assert DefectClass.objects.filter(project=team.project).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES_REFUSED)
def test_names_with_control_characters_or_line_breaks_are_refused_everywhere(team, api, name):
    # given
    superuser = UserFactory.create(username="root", is_superuser=True)
    project_path = f"/api/v1/projects/{team.project.pk}"
    class_path = f"/api/v1/defect-classes/{team.defect_class.pk}/"
    # when
    responses = {
        "project create": api(superuser).post("/api/v1/projects/", {"name": name, "slug": "new-line"}),
        "project rename": api(team.admin).patch(f"{project_path}/", {"name": name}),
        "class create": api(team.admin).post(f"{project_path}/defect-classes/", {"name": name}),
        "class rename": api(team.admin).patch(class_path, {"name": name}),
        "severity level": api(team.admin).patch(class_path, {"severity_levels": [{"name": name}]}),
        "split": api(team.admin).post(f"{class_path}split/", {"into": ["shallow", name]}),
        "version": api(team.ml_engineer).post(f"{project_path}/versions/", {"name": name}),
    }
    # then
    assert {what: response.status_code for what, response in responses.items()} == dict.fromkeys(responses, 400)
    stored_names = [model.objects.values_list("name", flat=True) for model in (Project, DefectClass, SeverityLevel)]
    assert [name in names for names in stored_names] == [False, False, False]  # compared here: SQL refuses a NUL
    assert DatasetVersion.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["crack:0,0,0::", "a:b"])
def test_class_names_with_the_voc_label_map_separator_are_refused(team, api, name):
    response = api(team.admin).post(f"/api/v1/projects/{team.project.pk}/defect-classes/", {"name": name})
    assert "':'" in refused(response)["message"]


@pytest.mark.django_db
def test_class_names_in_other_scripts_and_with_commas_are_accepted(team, api):
    names = ["Riss, tief", "ترک", "亀裂", "fissure – profonde", "سطح‌خراش"]  # the last has a zero-width non-joiner
    statuses = [
        api(team.admin).post(f"/api/v1/projects/{team.project.pk}/defect-classes/", {"name": name}).status_code
        for name in names
    ]
    assert statuses == [201] * len(names)


# The page form (frontend/version_views.py) takes its values as text.


def version_form(team, **fields: str) -> dict:
    return {
        "name": "v1",
        "defect_classes": [team.defect_class.name],
        "image_statuses": ["final"],
        "include_defect_free": "on",
        "split_train": "70",
        "split_val": "15",
        "split_test": "15",
        "seed": "0",
        "line_kind": "safety_critical",
        **fields,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"seed": str(2**40)},
        {"seed": str(-(2**40))},
        {"seed": "9" * 5000},
        {"name": "v\x00"},
        {"name": "v1\r\nv2"},
        {"split_train": "nan", "split_val": "nan"},
        {"split_train": "1e400"},
    ],
    ids=["seed 2**40", "seed -2**40", "seed 5000 digits", "NUL in name", "line break in name", "NaN", "infinity"],
)
def test_version_page_form_refuses_hostile_fields(team, fields):
    # given
    client = Client()
    client.force_login(team.ml_engineer)
    # when
    response = client.post(f"/projects/{team.project.pk}/versions/", version_form(team, **fields))
    # then
    assert response.status_code == 400
    assert b'class="error"' in response.content or b"error" in response.content
    assert DatasetVersion.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["defect_class=²", "after=²", "defect_class=" + "9" * 30, "after=" + "9" * 30])
def test_project_page_filters_with_hostile_digits_are_not_a_500(team, query):
    client = Client()
    client.force_login(team.inspector)
    response = client.get(f"/projects/{team.project.pk}/?{query}")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["freeze=²", "freeze=" + "9" * 30])
def test_version_page_with_a_hostile_job_to_follow_is_not_a_500(team, query):
    client = Client()
    client.force_login(team.ml_engineer)
    response = client.get(f"/projects/{team.project.pk}/versions/?{query}")
    assert response.status_code == 200
