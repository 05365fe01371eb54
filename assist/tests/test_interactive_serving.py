"""The project's promoted interactive model in the editor's assist (issue 13): when the editor prefers it, how a
click is answered with the previous outline as the model's previous mask, and what the previous outline may be."""

import pytest

from annotation.geometry import polygons_from_json, polygons_to_json, rasterize
from annotation.services.images import assignments_create
from assist.engines.base import Prompt, engine_get
from assist.engines.interactive_model import interactive_engine_name
from assist.interactive.engine import InteractiveEngine
from assist.models import ModelKind, Suggestion, TrainedModel
from assist.outlines import mask_outline
from assist.selectors import engines_for_project, model_promoted_for_project
from assist.services.models import model_file_path, trained_model_promote
from assist.services.pixels import image_pixels
from assist.tests.factories import spotted_image_create, square
from assist.tests.interactive_model import interactive_model_create, quality
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

CLASSICAL = quality(0.70, 14.0)  # assist_quality 1.0


def assist(api, user, image, *, engine=None, previous_geometry=None, **prompt):
    body = {"prompt": {"defect_class_id": image.project.defect_classes.first().pk, **prompt}}
    if engine is not None:
        body["engine"] = engine
    if previous_geometry is not None:
        body["previous_geometry"] = previous_geometry
    return api(user).post(f"/api/v1/images/{image.pk}/assist/", body, format="json")


@pytest.fixture
def image(team):
    image = spotted_image_create(project=team.project, spots=[(40, 30, 12)])
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    return image


@pytest.mark.parametrize(
    ("model_quality", "is_preferred"),
    [
        (quality(0.72, 9.0), True),  # 0.72 + 1 - 0.45 = 1.27 beats the classical engine's 1.0
        (quality(0.60, 12.0), False),  # 1.0: a tie keeps the classical engine
        (quality(0.90, 20.0), False),  # a better box, but no click helps: 0.9
    ],
)
def test_the_editor_prefers_the_interactive_model_where_its_record_beats_the_classical_engine(
    team, model_quality, is_preferred
):
    # given: a promoted interactive model whose run scored it beside the classical engine
    model = interactive_model_create(
        project=team.project, admin=team.admin, metrics={**model_quality, "baselines": {"classical": CLASSICAL}}
    )
    # when
    engines = engines_for_project(project=team.project)
    # then: either it goes first, or it is offered after the classical engine; pre-labels never use it
    name = interactive_engine_name(model.pk)
    assert [engine.name for engine in engines.engines] == ([name, "classical"] if is_preferred else ["classical", name])
    assert engines.preferred == (name if is_preferred else "classical")
    assert engines.prelabel_engine is None


def test_a_model_without_a_comparison_on_record_is_not_preferred(team):
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.99, 1.0))
    assert engines_for_project(project=team.project).preferred == "classical"
    assert interactive_engine_name(model.pk) in [
        engine.name for engine in engines_for_project(project=team.project).engines
    ]


def test_an_unpromoted_or_other_projects_model_is_no_engine_here(team, api, image):
    # given: a model of this project not promoted, and another project's promoted one
    own = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.9, 2.0), is_promoted=False)
    foreign = interactive_model_create(project=ProjectFactory.create(), admin=team.admin, metrics=quality(0.9, 2.0))
    # then: neither can be asked for here
    for model in (own, foreign):
        response = assist(api, team.inspector, image, box=[36, 26, 55, 45], engine=interactive_engine_name(model.pk))
        assert response.status_code == 400, response.json()
        assert f"No assist engine 'interactive-{model.pk}' here; available: classical." in response.json()["message"]
    assert Suggestion.objects.count() == 0


def test_a_click_is_answered_by_the_model_with_the_previous_outline_as_its_previous_mask(team, api, image):
    # given: the promoted interactive model, preferred
    model = interactive_model_create(
        project=team.project, admin=team.admin, metrics={**quality(0.8, 5.0), "baselines": {"classical": CLASSICAL}}
    )
    name = interactive_engine_name(model.pk)
    previous = square(x=36, y=26, side=20)
    # when: a click with the outline it corrects, and the same click alone
    corrected = assist(api, team.inspector, image, positive_clicks=[[45, 35]], previous_geometry=previous)
    alone = assist(api, team.inspector, image, positive_clicks=[[45, 35]])
    # then: the model answered, named in the answer
    assert corrected.status_code == 200, corrected.json()
    body = corrected.json()
    assert (body["engine"], body["model_id"]) == (name, model.pk)
    # and its outline is the exported model's own answer to the click with that outline as the previous mask
    pixels = image_pixels(image)
    mask = rasterize(polygons_from_json(previous, width=120, height=90), width=120, height=90).astype(bool)
    engine = InteractiveEngine(model_file_path(model, "onnx_fp32"))
    expected = engine.predict(pixels, Prompt(positive_clicks=((45.0, 35.0),), previous_mask=mask))
    outline = mask_outline(expected.mask, offset=expected.offset, geometry_kind=team.defect_class.geometry_kind)
    assert body["geometry"] == polygons_to_json(outline)
    # and the previous mask reached the network: without it the answer differs
    assert alone.json()["geometry"] != body["geometry"]
    assert Suggestion.objects.get(pk=body["suggestion_id"]).engine == name
    assert engine_get(name).predict(pixels, Prompt(positive_clicks=((45.0, 35.0),), previous_mask=mask)).offset == (
        expected.offset
    )


@pytest.mark.parametrize(
    ("previous", "message"),
    [
        ({"polygons": [{"exterior": [[0, 0], [500, 0], [500, 10]], "holes": []}]}, "Previous outline refused"),
        ({"polygons": [{"exterior": [[0, 0], [1]], "holes": []}]}, "Previous outline refused"),
        ({"polygons": "x"}, "Previous outline refused"),
        ([1, 2, 3], "Previous outline refused"),
    ],
)
def test_a_hostile_previous_outline_is_refused_with_a_reason(team, api, image, previous, message):
    response = assist(api, team.inspector, image, positive_clicks=[[45, 35]], previous_geometry=previous)
    assert response.status_code == 400, response.json()
    assert message in response.json()["message"]
    assert Suggestion.objects.count() == 0


def test_each_kind_has_its_own_promoted_model(team):
    # given: two interactive models, the second promoted after the first
    first = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    second = interactive_model_create(
        project=team.project, admin=team.admin, metrics=quality(0.7, 9.0), is_promoted=False
    )
    # when
    trained_model_promote(user=team.admin, model_id=second.pk)
    # then: the second replaced the first, and the project still has no segmentation model
    assert model_promoted_for_project(team.project, kind=ModelKind.INTERACTIVE) == second
    assert list(TrainedModel.objects.filter(is_promoted=True).values_list("pk", flat=True)) == [second.pk]
    assert TrainedModel.objects.get(pk=first.pk).is_promoted is False
    assert model_promoted_for_project(team.project) is None
