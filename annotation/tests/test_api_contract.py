"""Contract tests: the whole JSON body of each editor endpoint, so any change to a shape is a deliberate one.

Timestamps are the only values blanked out (they are checked to be present and ISO 8601)."""

import json
from datetime import UTC, datetime

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from tests.factories import SeverityLevelFactory, image_create

TIMESTAMP = "<timestamp>"
SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}
SQUARE_STORED = {"polygons": [{"exterior": [[10.0, 10.0], [20.0, 10.0], [20.0, 20.0], [10.0, 20.0]], "holes": []}]}
RING_WITH_HOLE = {
    "polygons": [
        {
            "exterior": [[30, 5], [50, 5], [50, 25], [30, 25]],
            "holes": [[[35, 10], [45, 10], [45, 20], [35, 20]]],
        }
    ]
}
RING_WITH_HOLE_STORED = {
    "polygons": [
        {
            "exterior": [[30.0, 5.0], [50.0, 5.0], [50.0, 25.0], [30.0, 25.0]],
            "holes": [[[35.0, 10.0], [45.0, 10.0], [45.0, 20.0], [35.0, 20.0]]],
        }
    ]
}


def blank_timestamps(body: object, fields: tuple[str, ...] = ("created_at", "updated_at")) -> object:
    """The body with each timestamp field replaced by TIMESTAMP after checking that it parses."""
    if isinstance(body, list):
        return [blank_timestamps(item, fields) for item in body]
    if isinstance(body, dict):
        blanked: dict[str, object] = {}
        for key, value in body.items():
            if key in fields:
                datetime.fromisoformat(value)
                blanked[key] = TIMESTAMP
            else:
                blanked[key] = blank_timestamps(value, fields)
        return blanked
    return body


@pytest.fixture
def image(team):
    """A 64 x 48 image assigned to the inspector."""
    image = image_create(project=team.project, seed=1)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return image


@pytest.mark.django_db
def test_image_annotation_list_contract(team, api, image):
    # given
    first = annotation_create(
        user=team.inspector,
        image_id=image.pk,
        defect_class_id=team.defect_class.pk,
        severity_id=team.severity.pk,
        geometry_data=SQUARE,
    )
    second = annotation_create(
        user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=RING_WITH_HOLE
    )
    # when
    response = api(team.inspector).get(f"/api/v1/images/{image.pk}/annotations/")
    # then
    assert response.status_code == 200
    assert blank_timestamps(response.json()) == [
        {
            "id": first.pk,
            "image_id": image.pk,
            "defect_class_id": team.defect_class.pk,
            "severity_id": team.severity.pk,
            "geometry": SQUARE_STORED,
            "area_px": 121.0,
            "bbox": [10.0, 10.0, 11.0, 11.0],
            "source": "manual",
            "provenance": None,
            "author_id": team.inspector.pk,
            "is_final": False,
            "revision": 1,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
        {
            "id": second.pk,
            "image_id": image.pk,
            "defect_class_id": team.defect_class.pk,
            "severity_id": None,
            "geometry": RING_WITH_HOLE_STORED,
            "area_px": 441.0 - 81.0,  # 21 x 21 outline and all, less the inside of the 11 x 11 hole
            "bbox": [30.0, 5.0, 21.0, 21.0],
            "source": "manual",
            "provenance": None,
            "author_id": team.inspector.pk,
            "is_final": False,
            "revision": 1,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    ]


@pytest.mark.django_db
def test_annotation_create_contract(team, api, image):
    # when
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/",
        {"defect_class_id": team.defect_class.pk, "severity_id": team.severity.pk, "geometry": SQUARE},
    )
    # then
    assert response.status_code == 201
    body = response.json()
    assert blank_timestamps(body) == {
        "id": body["id"],
        "image_id": image.pk,
        "defect_class_id": team.defect_class.pk,
        "severity_id": team.severity.pk,
        "geometry": SQUARE_STORED,
        "area_px": 121.0,
        "bbox": [10.0, 10.0, 11.0, 11.0],
        "source": "manual",
        "provenance": None,
        "author_id": team.inspector.pk,
        "is_final": False,
        "revision": 1,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }
    assert list(image.annotations.values_list("pk", flat=True)) == [body["id"]]


@pytest.mark.django_db
def test_annotation_save_contract(team, api, image):
    # given
    annotation = annotation_create(
        user=team.inspector,
        image_id=image.pk,
        defect_class_id=team.defect_class.pk,
        severity_id=team.severity.pk,
        geometry_data=SQUARE,
    )
    # when
    response = api(team.senior).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": RING_WITH_HOLE}
    )
    # then
    assert response.status_code == 200
    assert blank_timestamps(response.json()) == {
        "id": annotation.pk,
        "image_id": image.pk,
        "defect_class_id": team.defect_class.pk,
        "severity_id": team.severity.pk,
        "geometry": RING_WITH_HOLE_STORED,
        "area_px": 360.0,
        "bbox": [30.0, 5.0, 21.0, 21.0],
        "source": "manual",
        "provenance": None,
        "author_id": team.inspector.pk,  # a reviewer's edit keeps the author
        "is_final": False,
        "revision": 2,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


@pytest.mark.django_db
def test_project_detail_contract(team, api, image):
    # given
    team.project.px_per_mm = 12.5
    team.project.description = "Magnetic tiles, line 3"
    team.project.save()
    major = SeverityLevelFactory.create(
        defect_class=team.defect_class, name="major", rank=2, criterion="longer than 2 mm"
    )
    image_create(project=team.project, seed=2)  # unassigned: the inspector does not count it
    # when
    response = api(team.inspector).get(f"/api/v1/projects/{team.project.pk}/")
    # then
    assert response.status_code == 200
    assert blank_timestamps(response.json()) == {
        "id": team.project.pk,
        "slug": "tile-line",
        "name": "Tile line",
        "description": "Magnetic tiles, line 3",
        "px_per_mm": 12.5,
        "taxonomy_revision": 1,
        "created_at": TIMESTAMP,
        "role": "inspector",
        "defect_classes": [
            {
                "id": team.defect_class.pk,
                "name": "crack",
                "color": "#e6194b",
                "description": "",
                "geometry_kind": "area",
                "position": 0,
                "is_active": True,
                "min_length_px": None,
                "min_width_px": None,
                "min_height_px": None,
                "min_area_px": None,
                "min_length_mm": None,
                "min_width_mm": None,
                "min_height_mm": None,
                "min_area_mm2": None,
                "severity_levels": [
                    {"id": team.severity.pk, "name": "minor", "criterion": "", "rank": 1},
                    {"id": major.pk, "name": "major", "criterion": "longer than 2 mm", "rank": 2},
                ],
            }
        ],
        "status_counts": {
            "new": 0,
            "assigned": 1,
            "in_progress": 0,
            "submitted": 0,
            "in_review": 0,
            "final": 0,
            "defect_free": 0,
        },
    }


@pytest.mark.django_db
def test_assignment_create_and_image_submit_contracts(team, api):
    # given
    image = image_create(project=team.project, seed=3)
    # when
    assigned = api(team.senior).post(
        f"/api/v1/projects/{team.project.pk}/assignments/", {"annotator": "inspector", "image_ids": [image.pk]}
    )
    submitted = api(team.inspector).post(f"/api/v1/images/{image.pk}/submit/")
    # then
    assignment = image.assignments.get()
    assert (assigned.status_code, assigned.json()) == (201, {"assigned": 1})
    assert (submitted.status_code, submitted.json()) == (200, {"assignment_id": assignment.pk, "status": "submitted"})
    image.refresh_from_db()
    assert (assignment.annotator_id, assignment.assigned_by_id, image.status) == (
        team.inspector.pk,
        team.senior.pk,
        "submitted",
    )


def test_openapi_schema_has_no_warnings_and_shows_the_paginated_envelope():
    """The editor's client is typed from this schema: a warning there is a wrong or missing type in the client."""
    # given
    GENERATOR_STATS.reset()
    # when
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    # then
    assert (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache)) == ({}, {})
    components = schema["components"]["schemas"]

    def response_properties(path: str) -> list[str]:
        reference = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return sorted(components[reference.rsplit("/", 1)[-1]]["properties"])

    for path in ("/api/v1/projects/{project_id}/images/", "/api/v1/projects/{project_id}/audit/", "/api/v1/queue/"):
        assert response_properties(path) == ["next", "previous", "results"], path


@pytest.mark.django_db
def test_the_image_list_writes_each_image_as_the_image_serializer_does(team, api):
    # given: images with and without an acquisition time (written from rows, not by the serializer per image)

    from annotation.api.serializers import ImageOutput
    from annotation.models import Image

    for seed in range(3):
        image_create(project=team.project, seed=seed, name=f"part{seed}.png")
    Image.objects.filter(original_filename="part1.png").update(
        acquired_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC), is_defect_free=True
    )
    # when
    body = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/images/").json()
    # then
    expected = ImageOutput(Image.objects.filter(project=team.project).order_by("id"), many=True).data
    assert body["results"] == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
    assert [image["acquired_at"] is None for image in body["results"]] == [True, False, True]
