"""POST /api/v1/images/{id}/assist/ and GET /api/v1/projects/{id}/assist/engines/: the answer's shape, who may ask,
and hostile prompts (400, nothing recorded)."""

import pytest

from annotation.geometry import iou, polygons_bbox, polygons_from_json, rasterize
from annotation.models import DefectClass
from annotation.services.images import assignment_submit, assignments_create
from assist.engines.sam import NOT_INSTALLED as SAM_NOT_INSTALLED
from assist.models import Suggestion, SuggestionOrigin
from assist.services import pixels
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create, square
from tests.factories import DefectClassFactory

pytestmark = pytest.mark.django_db

SPOT = (40, 30, 12)  # x, y, side: a 12 x 12 px dark spot
LOOSE_BOX = [36, 26, 55, 45]  # the spot with 4 px of surface on every side, as a hand drags it


@pytest.fixture
def image(team):
    image = spotted_image_create(project=team.project, spots=[SPOT])
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    return image


def assist(api, user, image, **prompt):
    body = {"prompt": {"defect_class_id": prompt.pop("defect_class_id", None), **prompt}}
    if body["prompt"]["defect_class_id"] is None:
        body["prompt"]["defect_class_id"] = image.project.defect_classes.first().pk
    for key in ("engine", "replaces_suggestion_id"):
        if key in body["prompt"]:
            body[key] = body["prompt"].pop(key)
    return api(user).post(f"/api/v1/images/{image.pk}/assist/", body, format="json")


def test_a_box_round_a_spot_answers_its_outline_and_records_the_suggestion(team, api, image):
    # when
    response = assist(api, team.inspector, image, box=LOOSE_BOX)
    # then: the whole body (ms varies: checked apart)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert isinstance(body.pop("ms"), float)
    suggestion = Suggestion.objects.get()
    outline = polygons_from_json(suggestion.geometry, width=image.width, height=image.height)
    box = polygons_bbox(outline)
    assert body == {
        "suggestion_id": suggestion.pk,
        "engine": "classical",
        "model_id": None,
        "score": suggestion.score,
        "geometry": suggestion.geometry,
        "bbox": [box.x, box.y, box.width, box.height],
        "vertex_count": suggestion.vertex_count,
    }
    # the outline is the spot's, in a few vertices (the engine's light blur widens it by a pixel or so)
    spot = rasterize(polygons_from_json(square(x=40, y=30, side=12), width=120, height=90), width=120, height=90)
    assert iou(rasterize(outline, width=120, height=90), spot) >= 0.7
    assert suggestion.vertex_count <= 8
    assert 0 < suggestion.score <= 1
    assert (suggestion.origin, suggestion.requested_by, suggestion.defect_class) == (
        SuggestionOrigin.ASSIST,
        team.inspector,
        team.defect_class,
    )
    assert suggestion.prompt["box"] == [36.0, 26.0, 55.0, 45.0]
    assert suggestion.prompt["defect_class"] == "crack"


def test_clicks_answer_too_and_the_answer_they_replace_stops_counting(team, api, image):
    # given: a first answer
    first = assist(api, team.inspector, image, positive_clicks=[[45, 35]]).json()
    # when: one more click in the same drawing
    second = assist(
        api, team.inspector, image, positive_clicks=[[45, 35], [50, 38]], replaces_suggestion_id=first["suggestion_id"]
    )
    # then
    assert second.status_code == 200, second.json()
    assert second.json()["geometry"] is not None
    superseded = dict(Suggestion.objects.values_list("pk", "is_superseded"))
    assert superseded == {first["suggestion_id"]: True, second.json()["suggestion_id"]: False}


def test_another_users_answer_cannot_be_marked_replaced(team, api, image):
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.senior, assigned_by=team.senior)
    theirs = assist(api, team.senior, image, box=LOOSE_BOX).json()["suggestion_id"]
    assist(api, team.inspector, image, box=LOOSE_BOX, replaces_suggestion_id=theirs)
    assert Suggestion.objects.get(pk=theirs).is_superseded is False


def test_repeated_assists_on_one_image_decode_it_once(team, api, image):
    pixels.image_cache().clear()
    loads_before = pixels.image_cache().loads
    for _ in range(3):
        assert assist(api, team.inspector, image, box=LOOSE_BOX).status_code == 200
    assert pixels.image_cache().loads == loads_before + 1


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [("inspector", 200, None), ("senior", 200, None), ("admin", 200, None), ("ml_engineer", 403, "permission_denied")],
)
def test_roles_that_label_may_ask(team, api, image, role, status, code):
    response = assist(api, team.member(role), image, box=LOOSE_BOX)
    assert response.status_code == status
    assert code is None or response.json()["code"] == code


def test_another_projects_user_and_an_unassigned_inspector_get_404(team, api, image):
    assert assist(api, team.outsider, image, box=LOOSE_BOX).status_code == 404
    other = spotted_image_create(project=team.project, spots=[SPOT], seed=3, name="other.png")
    response = assist(api, team.inspector, other, box=LOOSE_BOX)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert Suggestion.objects.count() == 0


def test_submitted_work_is_closed_to_the_assist_too(team, api, image):
    assignment_submit(image=image, annotator=team.inspector)
    response = assist(api, team.inspector, image, box=LOOSE_BOX)
    assert (response.status_code, response.json()["code"]) == (409, "already_submitted")


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ({"positive_clicks": [[120, 10]]}, "positive click (120.0, 10.0) is outside the 120x90 image"),
        ({"negative_clicks": [[-1, 10]], "positive_clicks": [[5, 5]]}, "negative click (-1.0, 10.0) is outside"),
        ({"box": [10, 10, 130, 40]}, "is outside the 120x90 image"),
        ({"box": [50, 50, 10, 10]}, "is inverted"),
        ({"box": [10, 10, 1e300, 40]}, "outside the 120x90 image"),
        ({"negative_clicks": [[5, 5]]}, "a prompt needs a box or a positive click"),
        ({}, "a prompt needs a box or a positive click"),
        ({"positive_clicks": [[5, 5]] * 41}, "41 clicks; an assist prompt holds at most 40"),
        ({"box": [0, 0, 10]}, "box: Ensure this field has at least 4 elements"),
        ({"positive_clicks": [[5, "x"]]}, "A valid number is required"),
        ({"positive_clicks": [[5, 5, 5]]}, "no more than 2 elements"),
        ({"box": [10, 10, 40, 40], "engine": "sam-vit_h"}, "No assist engine 'sam-vit_h' here; available: classical"),
    ],
)
def test_hostile_prompts_are_refused_with_a_reason(team, api, image, prompt, message):
    response = assist(api, team.inspector, image, **prompt)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert message in response.json()["message"]
    assert Suggestion.objects.count() == 0


def test_a_box_larger_than_one_defect_can_be_is_refused(team, api, settings, image):
    settings.DEFECTLAB_ASSIST_MAX_BOX_PX = 30 * 30
    response = assist(api, team.inspector, image, box=[0, 0, 40, 40])
    assert response.status_code == 400
    assert "The box covers 1,681 px; an assist box covers at most 900 px" in response.json()["message"]


def test_a_class_of_another_project_or_a_retired_one_is_refused(team, api, image):
    foreign = DefectClassFactory.create(name="stain")
    retired = DefectClass.objects.create(project=team.project, name="old", is_active=False)
    for defect_class, message in ((foreign, "No such defect class"), (retired, "is retired")):
        response = assist(api, team.inspector, image, box=LOOSE_BOX, defect_class_id=defect_class.pk)
        assert response.status_code == 400
        assert message in response.json()["message"]


def test_the_engine_list_names_the_preferred_engine_and_what_can_prelabel(team, api):
    # when / then: the weight-free engine alone
    response = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/assist/engines/")
    assert response.status_code == 200
    assert response.json() == {
        "engines": [{"name": "classical", "can_prelabel": False, "is_preferred": True}],
        "unavailable": [{"name": "sam", "reason": SAM_NOT_INSTALLED}],
        "preferred": "classical",
        "prelabel_engine": None,
        "sam_model_id": None,
    }
    # and with an engine that finds defects on its own: it pre-labels, the classical engine stays preferred
    with prelabel_engine.registered():
        body = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/assist/engines/").json()
    assert body == {
        "engines": [
            {"name": "classical", "can_prelabel": False, "is_preferred": True},
            {"name": "test-dark-spots", "can_prelabel": True, "is_preferred": False},
        ],
        "unavailable": [{"name": "sam", "reason": SAM_NOT_INSTALLED}],
        "preferred": "classical",
        "prelabel_engine": "test-dark-spots",
        "sam_model_id": None,
    }


def test_the_engine_list_is_for_members_only(team, api):
    assert api(team.outsider).get(f"/api/v1/projects/{team.project.pk}/assist/engines/").status_code == 404
    assert api().get(f"/api/v1/projects/{team.project.pk}/assist/engines/").status_code == 401


def record(api, user, image, engine="sam", geometry=None, **extra):
    body = {
        "engine": engine,
        "prompt": {"defect_class_id": extra.pop("defect_class_id", None), "positive_clicks": [[45, 35]]},
        "score": 0.8,
        "geometry": geometry,
        **extra,
    }
    return api(user).post(f"/api/v1/images/{image.pk}/assist/record/", body, format="json")


def test_recording_a_browser_answer_needs_an_installed_engine_that_runs_in_the_browser(team, api, image):
    geometry = square(x=40, y=30, side=10)
    for engine, status in (("classical", 400), ("sam", 400)):  # the server's engine; SAM not installed here
        response = record(api, team.inspector, image, engine, geometry, defect_class_id=team.defect_class.pk)
        assert response.status_code == status
        assert response.json()["message"] == f"No browser-decoded assist engine {engine!r} is installed here."
    assert not Suggestion.objects.exists()
    # and it is checked as drawing is: a role that does not label, another project's image
    ml = record(api, team.ml_engineer, image, "sam", geometry, defect_class_id=team.defect_class.pk)
    assert ml.status_code == 403
