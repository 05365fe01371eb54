"""image-tile: the stored JPEG tiles of a large image's pyramid, behind the image's permission checks."""

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from annotation.services.images import assignments_create
from datasets import ingest
from tests.factories import image_create


@pytest.fixture
def line_scan(team):
    """A 100 x 40 image cut into 32 px tiles (levels 100 x 40, 50 x 20, 25 x 10), assigned to the inspector."""
    with override_settings(DEFECTLAB_PYRAMID_MIN_PX=64, DEFECTLAB_PYRAMID_TILE_PX=32):
        image = image_create(project=team.project, width=100, height=40, seed=5, name="line-scan.png")
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return image


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_a_tile_is_the_stored_jpeg_and_is_cached_for_good(team, api, line_scan):
    # when
    response = api(team.inspector).get(f"/api/v1/images/{line_scan.pk}/tiles/0/3/1")
    # then: the bottom-right tile of level 0 is 100 - 96 = 4 px wide and 40 - 32 = 8 px high
    data = body_of(response)
    assert response.status_code == 200
    assert (response["Content-Type"], response["Cache-Control"], response["ETag"]) == (
        "image/jpeg",
        "private, max-age=31536000, immutable",
        f'"{line_scan.sha256}-32-0-3-1"',
    )
    with default_storage.open(f"tiles/{line_scan.sha256}/32/0/3_1.jpg", "rb") as stored:
        assert data == stored.read()
    assert ingest.decode_image(data, "tile.jpg").display.size == (4, 8)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("3/0/0", "No such pyramid level; this image has levels 0 to 2."),
        ("0/4/0", "No such tile; level 0 has 4 x 2 tiles (columns x rows)."),
        ("1/0/1", "No such tile; level 1 has 2 x 1 tiles (columns x rows)."),
    ],
)
def test_tiles_outside_the_pyramid_are_404(team, api, line_scan, path, message):
    # when
    response = api(team.inspector).get(f"/api/v1/images/{line_scan.pk}/tiles/{path}")
    # then
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": message})


@pytest.mark.django_db
def test_a_small_image_has_no_tiles(team, api):
    # given
    image = image_create(project=team.project, seed=6)
    # when
    response = api(team.senior).get(f"/api/v1/images/{image.pk}/tiles/0/0/0")
    # then
    assert image.pyramid is None
    assert (response.status_code, response.json()) == (
        404,
        {"code": "not_found", "message": "This image has no tiles; the editor loads its display file."},
    )


@pytest.mark.django_db
def test_tiles_of_an_image_outside_the_inspectors_queue_are_hidden(team, api):
    # given
    with override_settings(DEFECTLAB_PYRAMID_MIN_PX=64, DEFECTLAB_PYRAMID_TILE_PX=32):
        unassigned = image_create(project=team.project, width=100, height=40, seed=7)
    # when
    response = api(team.inspector).get(f"/api/v1/images/{unassigned.pk}/tiles/0/0/0")
    # then
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": "No such image."})
