"""The geometry budget through the API, tried as an attacker would: oversized bodies, too many polygons, too
many annotations or vertices on one image, and the editor's load of the fullest image the limits allow."""

import functools
import io
import json

import numpy as np
import pytest
from django.test import override_settings
from PIL import Image as PILImage
from pycocotools import mask as coco_mask

from annotation import geometry, raster
from annotation.api.serializers import AnnotationOutput
from annotation.errors import GeometryTooComplex
from annotation.models import Annotation, AuditEntry, Image
from annotation.services.annotations import ImportedDefect, annotations_import
from annotation.services.geometry_budget import BUDGET_SETTINGS
from annotation.tests.editing import assign, create_square
from annotation.tests.geometry_cases import (
    SMALL_BUDGET,
    holed_triangles,
    small_budget_cases,
    triangle,
    worst_accepted,
)
from datasets.services.imports import images_import
from datasets.sources import Source
from tests.factories import image_create, png_bytes

SMALL_BUDGET_SETTINGS = {BUDGET_SETTINGS[field]: getattr(SMALL_BUDGET, field) for field in BUDGET_SETTINGS}


def sized_image(team, *, width: int, height: int, seed: int = 1) -> Image:
    """An image assigned to the inspector whose row says `width` x `height`: its pixels are never read by a save
    or by the editor's load, so a 196 MP image needs no 196 MP file."""
    image = image_create(project=team.project, seed=seed)
    Image.objects.filter(pk=image.pk).update(width=width, height=height)
    image.refresh_from_db()
    assign(team, [image])
    return image


def state(annotation: Annotation) -> tuple:
    annotation.refresh_from_db()
    return annotation.revision, annotation.geometry, annotation.vertex_count, AuditEntry.objects.count()


def refuse_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, parsing any geometry fails the test."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("parsed a body that is over its limit")

    monkeypatch.setattr(geometry, "polygons_from_json", refuse)


def refuse_rasterising(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, drawing any polygon fails the test."""

    def refuse(*_: object) -> None:
        raise AssertionError("rasterised a geometry that is over the budget")

    monkeypatch.setattr(raster, "_draw", refuse)


# The attack: 33,333 overlapping triangles with holes in one save


@pytest.mark.django_db
def test_the_33333_triangle_save_is_refused_413_before_its_body_is_read(team, api, monkeypatch):
    # given: 13.5 s of server CPU per save before the budget
    image = sized_image(team, width=3000, height=2500)
    annotation = create_square(team.inspector, image, team.defect_class)
    before = state(annotation)
    body = json.dumps({"expected_revision": 1, "geometry": holed_triangles(33_333, width=3000, height=2500)})
    # when
    refuse_parsing(monkeypatch)
    response = api(team.inspector).put(f"/api/v1/annotations/{annotation.pk}/", body, content_type="application/json")
    # then
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "message": f"The request body is {len(body):,} bytes; at most 1,048,576 are accepted here "
        "(DEFECTLAB_GEOMETRY_MAX_BODY_BYTES).",
        "limit": "DEFECTLAB_GEOMETRY_MAX_BODY_BYTES",
        "allowed": 1_048_576,
        "actual": len(body),
    }
    assert state(annotation) == before


@pytest.mark.django_db
def test_a_create_over_the_body_limit_is_refused_413_too(team, api, monkeypatch):
    image = sized_image(team, width=3000, height=2500)
    body = json.dumps(
        {"defect_class_id": team.defect_class.pk, "geometry": holed_triangles(20_000, width=3000, height=2500)}
    )
    # when
    refuse_parsing(monkeypatch)
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/", body, content_type="application/json"
    )
    # then
    assert (response.status_code, response.json()["code"], response.json()["limit"]) == (
        413,
        "too_large",
        "DEFECTLAB_GEOMETRY_MAX_BODY_BYTES",
    )
    assert not Annotation.objects.filter(image=image).exists()


@pytest.mark.django_db
@override_settings(DEFECTLAB_GEOMETRY_MAX_BODY_BYTES=16 * 1024**2)
def test_the_same_triangles_in_a_body_let_through_are_refused_by_counting_polygons(team, api, monkeypatch):
    # given: the body limit raised out of the way
    image = sized_image(team, width=3000, height=2500)
    annotation = create_square(team.inspector, image, team.defect_class)
    before = state(annotation)
    body = json.dumps({"expected_revision": 1, "geometry": holed_triangles(33_333, width=3000, height=2500)})
    # when
    refuse_rasterising(monkeypatch)
    response = api(team.inspector).put(f"/api/v1/annotations/{annotation.pk}/", body, content_type="application/json")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "geometry_too_complex",
        "message": "Geometry too complex: geometry has 33,333 polygons; at most 1,000 are accepted "
        "(DEFECTLAB_GEOMETRY_MAX_POLYGONS).",
        "limit": "DEFECTLAB_GEOMETRY_MAX_POLYGONS",
        "allowed": 1_000,
        "actual": 33_333,
    }
    assert state(annotation) == before


# Every per-annotation limit, named


@pytest.mark.django_db
@pytest.mark.parametrize("field", list(BUDGET_SETTINGS))
def test_a_create_over_each_limit_is_refused_naming_its_setting(team, api, field, monkeypatch):
    # given
    image = sized_image(team, width=200, height=200)
    # when
    refuse_rasterising(monkeypatch)
    with override_settings(**SMALL_BUDGET_SETTINGS):
        response = api(team.inspector).post(
            f"/api/v1/images/{image.pk}/annotations/",
            {"defect_class_id": team.defect_class.pk, "geometry": small_budget_cases(step=1)[field]},
        )
    # then
    body = response.json()
    assert (response.status_code, body["code"], body["limit"], body["allowed"]) == (
        400,
        "geometry_too_complex",
        BUDGET_SETTINGS[field],
        getattr(SMALL_BUDGET, field),
    )
    assert body["actual"] > body["allowed"]
    assert BUDGET_SETTINGS[field] in body["message"]
    assert not Annotation.objects.filter(image=image).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", list(BUDGET_SETTINGS))
def test_a_create_at_each_limit_is_accepted(team, api, field):
    image = sized_image(team, width=200, height=200)
    with override_settings(**SMALL_BUDGET_SETTINGS):
        response = api(team.inspector).post(
            f"/api/v1/images/{image.pk}/annotations/",
            {"defect_class_id": team.defect_class.pk, "geometry": small_budget_cases(step=0)[field]},
        )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_a_save_just_under_every_limit_at_once_succeeds_on_a_196_megapixel_image(team, api):
    # given: the default budget; 1,000 polygons, 1,000 holes, 10,000 vertices, 16 MP of boxes, the longest outline
    image = sized_image(team, width=14_000, height=14_000)
    annotation = create_square(team.inspector, image, team.defect_class)
    worst = worst_accepted(geometry.GeometryBudget(), width=14_000, height=14_000)
    body = json.dumps({"expected_revision": 1, "geometry": worst})
    # when
    response = api(team.inspector).put(f"/api/v1/annotations/{annotation.pk}/", body, content_type="application/json")
    # then
    assert response.status_code == 200, response.content[:500]
    annotation.refresh_from_db()
    assert (annotation.revision, annotation.vertex_count, len(annotation.geometry["polygons"])) == (2, 10_000, 1_000)
    rle = {"size": annotation.rle["size"], "counts": annotation.rle["counts"].encode("ascii")}
    assert int(coco_mask.area(rle)) == annotation.area_px  # nothing reaches past the image


# Per image: annotations and vertices


@pytest.mark.django_db
@override_settings(DEFECTLAB_IMAGE_MAX_ANNOTATIONS=3)
def test_an_image_takes_no_more_annotations_than_its_limit(team, api):
    # given: three annotations, two of them someone else's
    image = sized_image(team, width=200, height=200)
    assign(team, [image], annotator=team.senior)
    create_square(team.senior, image, team.defect_class)
    create_square(team.senior, image, team.defect_class)
    mine = create_square(team.inspector, image, team.defect_class)
    client = api(team.inspector)
    new = {"defect_class_id": team.defect_class.pk, "geometry": {"polygons": [{"exterior": triangle(50, 50, 10)}]}}
    # when
    refused = client.post(f"/api/v1/images/{image.pk}/annotations/", new)
    client.delete(f"/api/v1/annotations/{mine.pk}/?expected_revision=1")
    accepted = client.post(f"/api/v1/images/{image.pk}/annotations/", new)
    # then
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "geometry_too_complex",
        "message": "This image would hold 4 annotations; at most 3 are accepted per image "
        "(DEFECTLAB_IMAGE_MAX_ANNOTATIONS).",
        "limit": "DEFECTLAB_IMAGE_MAX_ANNOTATIONS",
        "allowed": 3,
        "actual": 4,
    }
    assert accepted.status_code == 201
    assert Annotation.objects.filter(image=image).count() == 3


@pytest.mark.django_db
@override_settings(DEFECTLAB_IMAGE_MAX_VERTICES=10)
def test_an_edit_that_grows_past_the_images_vertices_is_refused_and_one_that_moves_is_not(
    team, api, django_assert_max_num_queries
):
    # given: a triangle (3 vertices) and a square (4) on the image
    image = sized_image(team, width=200, height=200)
    create_square(team.inspector, image, team.defect_class)
    triangle_annotation = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/",
        {"defect_class_id": team.defect_class.pk, "geometry": {"polygons": [{"exterior": triangle(50, 50, 10)}]}},
    )
    annotation_id = triangle_annotation.json()["id"]
    annotation = Annotation.objects.get(pk=annotation_id)
    before = state(annotation)
    eight = {
        "polygons": [{"exterior": [[50, 50], [55, 48], [60, 50], [62, 55], [60, 60], [55, 62], [50, 60], [48, 55]]}]
    }
    moved = {"polygons": [{"exterior": triangle(51, 50, 10)}]}
    client = api(team.inspector)
    # when
    grown = client.put(f"/api/v1/annotations/{annotation_id}/", {"expected_revision": 1, "geometry": eight})
    unchanged = state(annotation)
    with django_assert_max_num_queries(5):  # as before the budget: no growth, no look at the image's others
        moved_response = client.put(
            f"/api/v1/annotations/{annotation_id}/", {"expected_revision": 1, "geometry": moved}
        )
    # then: 4 + 8 = 12 vertices would be over 10; 4 + 3 are not
    assert (grown.status_code, grown.json()["limit"], grown.json()["actual"]) == (
        400,
        "DEFECTLAB_IMAGE_MAX_VERTICES",
        12,
    )
    assert unchanged == before
    assert moved_response.status_code == 200


@pytest.mark.django_db
@override_settings(DEFECTLAB_IMAGE_MAX_ANNOTATIONS=2)
def test_an_import_past_the_images_limit_stores_nothing(team):
    image = sized_image(team, width=200, height=200)
    defects = [
        ImportedDefect(
            defect_class=team.defect_class, polygons=[geometry.Polygon(exterior=np.array(triangle(x, 5, 4)))]
        )
        for x in (5, 20, 40)
    ]
    with pytest.raises(GeometryTooComplex) as error:
        annotations_import(image=image, defects=defects, author=None)
    assert (error.value.details["limit"], Annotation.objects.filter(image=image).count()) == (
        "DEFECTLAB_IMAGE_MAX_ANNOTATIONS",
        0,
    )


# The editor's load of the fullest image


def fill(image: Image, team, *, annotations: int, vertices: int) -> list[Annotation]:
    """`annotations` blobs holding `vertices` vertices together, at full float precision, all over the image."""
    rng = np.random.default_rng(9)
    counts = [vertices // annotations + (index < vertices % annotations) for index in range(annotations)]
    defects = []
    for count in counts:
        centre = rng.uniform(30, [image.width - 30, image.height - 30])
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        ring = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * rng.uniform(5, 20, (count, 1)) + 1 / 3
        defects.append(ImportedDefect(defect_class=team.defect_class, polygons=[geometry.Polygon(exterior=ring)]))
    return annotations_import(image=image, defects=defects, author=team.senior, source="manual", is_final=False)


@pytest.mark.django_db
@override_settings(DEFECTLAB_IMAGE_MAX_ANNOTATIONS=300, DEFECTLAB_IMAGE_MAX_VERTICES=6_000)
def test_the_editor_loads_a_full_image_in_a_bounded_number_of_queries_without_rles(
    team, api, django_assert_max_num_queries
):
    # given: an image at both its limits
    image = sized_image(team, width=14_000, height=14_000)
    stored = fill(image, team, annotations=300, vertices=6_000)
    # when
    with django_assert_max_num_queries(10):
        response = api(team.senior).get(f"/api/v1/images/{image.pk}/editor/")
    listed = api(team.senior).get(f"/api/v1/images/{image.pk}/annotations/")
    # then: each annotation exactly as AnnotationOutput renders it (the geometry sent as stored), no RLE
    expected = json.loads(
        json.dumps(AnnotationOutput(Annotation.objects.filter(image=image).order_by("id"), many=True).data)
    )
    assert response.status_code == 200
    assert response.json()["annotations"] == expected == listed.json()
    assert len(expected) == len(stored) == 300
    assert b"counts" not in response.content
    assert sum(len(item["geometry"]["polygons"][0]["exterior"]) for item in expected) == 6_000


@pytest.mark.django_db
def test_an_image_with_no_annotations_loads_an_empty_list(team, api):
    image = sized_image(team, width=64, height=48)
    response = api(team.inspector).get(f"/api/v1/images/{image.pk}/editor/")
    assert (response.status_code, response.json()["annotations"]) == (200, [])
    assert api(team.inspector).get(f"/api/v1/images/{image.pk}/annotations/").json() == []


@pytest.mark.django_db
@override_settings(DEFECTLAB_IMAGE_MAX_ANNOTATIONS=3)
def test_a_mask_over_the_images_budget_rejects_that_image_alone(team):
    # given: one image whose mask has 4 separate specks (4 defects where an image may hold 3), and one whose has 3
    def mask_png(specks: int) -> bytes:
        mask = np.zeros((48, 64), dtype=np.uint8)
        mask[5, [5 + 10 * index for index in range(specks)]] = 255
        buffer = io.BytesIO()
        PILImage.fromarray(mask, mode="L").save(buffer, format="PNG")
        return buffer.getvalue()

    sources = [
        Source(
            filename=f"crack/{name}.png",
            read=functools.partial(png_bytes, seed=seed),
            mask_read=functools.partial(mask_png, specks),
            mask_filename=f"crack/{name}_mask.png",
            defect_class_name="crack",
        )
        for seed, name, specks in ((11, "over", 4), (12, "within", 3))
    ]
    # when
    summary = images_import(project=team.project, sources=sources)
    # then
    assert (summary.imported, [rejection.filename for rejection in summary.rejected]) == (1, ["crack/over_mask.png"])
    assert summary.rejected[0].reason == (
        "mask over the geometry budget: The mask holds 4 defects; at most 3 are accepted per image "
        "(DEFECTLAB_IMAGE_MAX_ANNOTATIONS)."
    )
    assert Annotation.objects.filter(image__project=team.project).count() == 3
