"""An assisted or model defect keeps how it was made (engine, prompt, score); one drawn by hand has none."""

import pytest

from annotation.models import Annotation, AnnotationSource
from tests.factories import image_create

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}
PROVENANCE = {"engine": "classical", "prompt": {"box": [9, 9, 21, 21], "clicks": [[15, 15, 1]]}, "score": 0.8}


@pytest.fixture
def image(team):
    return image_create(project=team.project, width=64, height=48)


def create(api, team, image, **fields):
    body = {"defect_class_id": team.defect_class.pk, "geometry": SQUARE, **fields}
    return api(team.senior).post(f"/api/v1/images/{image.pk}/annotations/", body, format="json")


@pytest.mark.django_db
def test_an_assisted_defect_is_stored_with_its_prompt(team, api, image):
    # when
    response = create(api, team, image, source="assisted", provenance=PROVENANCE)
    # then
    assert response.status_code == 201
    assert (response.json()["source"], response.json()["provenance"]) == ("assisted", PROVENANCE)
    stored = Annotation.objects.get(pk=response.json()["id"])
    assert (stored.source, stored.provenance) == (AnnotationSource.ASSISTED, PROVENANCE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "manual", "provenance": PROVENANCE}, "A defect drawn by hand has no provenance"),
        ({"source": "model", "provenance": [1, 2]}, "Provenance is a JSON object."),
        ({"source": "model", "provenance": {"note": "x" * 20_000}}, "Provenance is at most 16384 bytes"),
        ({"source": "model", "provenance": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}, "nests at most 6"),
    ],
)
def test_provenance_that_is_not_a_small_object_is_refused(team, api, image, fields, message):
    # when
    response = create(api, team, image, **fields)
    # then
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Annotation.objects.filter(image=image).exists()
