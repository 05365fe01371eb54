"""Creating, saving and deleting annotations: optimistic concurrency, minimum sizes, geometry, the audit trail."""

import pytest

from annotation.errors import AnnotationConflict
from annotation.models import Annotation, AuditEntry, GeometryKind
from annotation.services.annotations import annotation_create, annotation_save
from annotation.services.images import assignments_create
from annotation.tests.test_api_contract import TIMESTAMP, blank_timestamps
from tests.factories import DefectClassFactory, ProjectFactory, image_create


def square(x: float, y: float, side: float) -> dict:
    return {"polygons": [{"exterior": [[x, y], [x + side, y], [x + side, y + side], [x, y + side]]}]}


def stored(geometry: dict) -> dict:
    """The geometry as the service stores it: float vertices and an explicit (empty) hole list."""
    return {
        "polygons": [
            {"exterior": [[float(x), float(y)] for x, y in polygon["exterior"]], "holes": []}
            for polygon in geometry["polygons"]
        ]
    }


def snapshot(annotation: Annotation) -> tuple:
    annotation.refresh_from_db()
    return (
        annotation.revision,
        annotation.geometry,
        annotation.defect_class_id,
        annotation.severity_id,
        annotation.area_px,
        annotation.updated_at,
    )


@pytest.fixture
def image(team):
    """A 64 x 48 image assigned to the inspector."""
    image = image_create(project=team.project, seed=1)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return image


@pytest.fixture
def annotation(team, image):
    """The inspector's 11 x 11 px square at revision 1."""
    return annotation_create(
        user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=square(10, 10, 10)
    )


# Optimistic concurrency


@pytest.mark.django_db
def test_stale_revision_is_rejected_with_the_current_version(team, api, annotation):
    # given: someone moved the annotation to revision 2
    api(team.senior).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": square(12, 12, 10)}
    )
    before = snapshot(annotation)
    audit_count = AuditEntry.objects.count()
    # when: the inspector saves from revision 1
    response = api(team.inspector).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": square(20, 20, 10)}
    )
    # then: the whole current version, as the editor shows it beside the user's
    assert response.status_code == 409
    assert blank_timestamps(response.json()) == {
        "code": "annotation_conflict",
        "message": "Someone saved this annotation after revision 1; it is now at revision 2.",
        "current_revision": 2,
        "current": {
            "id": annotation.pk,
            "image_id": annotation.image_id,
            "defect_class_id": team.defect_class.pk,
            "severity_id": None,
            "geometry": stored(square(12, 12, 10)),
            "area_px": 121.0,
            "bbox": [12.0, 12.0, 11.0, 11.0],
            "source": "manual",
            "provenance": None,
            "author_id": team.inspector.pk,
            "is_final": False,
            "revision": 2,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    }
    assert snapshot(annotation) == before
    assert AuditEntry.objects.count() == audit_count


@pytest.mark.django_db
def test_second_of_two_saves_from_the_same_revision_is_rejected(team, api, annotation):
    # given
    path = f"/api/v1/annotations/{annotation.pk}/"
    # when
    first = api(team.inspector).put(path, {"expected_revision": 1, "geometry": square(12, 12, 10)})
    second = api(team.senior).put(path, {"expected_revision": 1, "geometry": square(30, 30, 10)})
    # then
    assert (first.status_code, first.json()["revision"]) == (200, 2)
    assert (second.status_code, second.json()["code"], second.json()["current_revision"]) == (
        409,
        "annotation_conflict",
        2,
    )
    annotation.refresh_from_db()
    assert (annotation.revision, annotation.geometry) == (2, stored(square(12, 12, 10)))


@pytest.mark.django_db
def test_stale_revision_is_rejected_by_the_service_within_a_query_budget(
    team, annotation, django_assert_max_num_queries
):
    # given
    annotation_save(
        user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=square(12, 12, 10)
    )
    before = snapshot(annotation)
    # when: savepoint, the locked annotation (read with its image, project and the user's access), rollback
    with pytest.raises(AnnotationConflict) as error, django_assert_max_num_queries(3):
        annotation_save(
            user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=square(20, 20, 10)
        )
    # then
    assert error.value.current_revision == 2
    assert snapshot(annotation) == before


@pytest.mark.django_db
def test_save_moves_to_the_next_revision_within_a_query_budget(team, annotation, django_assert_max_num_queries):
    # when: savepoint, the locked annotation (with its class: unchanged, so not read again), update, audit entry,
    # release
    with django_assert_max_num_queries(5):
        saved = annotation_save(
            user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=square(20, 20, 5)
        )
    # then
    annotation.refresh_from_db()
    assert (annotation.revision, annotation.geometry, annotation.area_px) == (2, stored(square(20, 20, 5)), 36)
    assert (annotation.bbox_x, annotation.bbox_y, annotation.bbox_width, annotation.bbox_height) == (20, 20, 6, 6)
    assert saved.revision == 2


@pytest.mark.django_db
def test_stale_delete_is_rejected_and_keeps_the_annotation(team, api, annotation):
    # given
    api(team.inspector).put(f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "severity_id": None})
    # when
    response = api(team.senior).delete(f"/api/v1/annotations/{annotation.pk}/?expected_revision=1")
    # then
    assert (response.status_code, response.json()["code"], response.json()["current_revision"]) == (
        409,
        "annotation_conflict",
        2,
    )
    assert Annotation.objects.filter(pk=annotation.pk).exists()


@pytest.mark.django_db
def test_delete_without_a_revision_is_refused(team, api, annotation):
    # when
    response = api(team.inspector).delete(f"/api/v1/annotations/{annotation.pk}/")
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "expected_revision: This field is required.",
        "errors": {"expected_revision": ["This field is required."]},
    }
    assert Annotation.objects.filter(pk=annotation.pk).exists()


# Minimum sizes


@pytest.mark.django_db
def test_too_small_defect_is_refused_with_the_rule_and_its_size(team, api, image):
    # given
    pore = DefectClassFactory.create(project=team.project, name="pore", min_area_px=200)
    # when
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": pore.pk, "geometry": square(10, 10, 5)}
    )
    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": "defect_too_small",
        "message": "Too small for pore: area 36 px² is below the minimum 200 px².",
        "defect_class": "pore",
        "reasons": ["area 36 px² is below the minimum 200 px²"],
    }
    assert (Annotation.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_too_small_defect_is_refused_in_mm_on_a_calibrated_project(team, api, image):
    # given: 10 px per mm, a crack must be 2 mm (20 px) long
    team.project.px_per_mm = 10
    team.project.save()
    crack = DefectClassFactory.create(
        project=team.project, name="hairline", geometry_kind=GeometryKind.LINEAR, min_length_mm=2
    )
    thin_line = {"polygons": [{"exterior": [[10, 10], [24, 10], [24, 11], [10, 11]]}]}
    # when
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": crack.pk, "geometry": thin_line}
    )
    # then
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Too small for hairline: length 15 px (1.5 mm) is below the minimum 20 px (2 mm).",
    )
    assert Annotation.objects.count() == 0


@pytest.mark.django_db
def test_shrinking_below_the_minimum_is_refused_and_nothing_changes(team, api, annotation):
    # given
    team.defect_class.min_area_px = 100
    team.defect_class.save()
    before = snapshot(annotation)
    # when
    response = api(team.inspector).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": square(10, 10, 3)}
    )
    # then
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (
        400,
        "defect_too_small",
        "Too small for crack: area 16 px² is below the minimum 100 px².",
    )
    assert snapshot(annotation) == before
    assert AuditEntry.objects.filter(action="update").count() == 0


# Malformed requests


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"geometry": square(60, 40, 10)},
            "Invalid geometry: polygon 0: vertices lie outside the 64x48 image",
        ),
        (
            {"geometry": {"polygons": []}},
            'Invalid geometry: geometry must be {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}',
        ),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], [5, 5]]}]}},
            "Invalid geometry: polygon 0 exterior: a ring needs at least 3 vertices, got 2",
        ),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], [5], [1, 5]]}]}},
            "Invalid geometry: polygon 0 exterior: vertices must be [x, y] number pairs",
        ),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], [5, "five"], [1, 5]]}]}},
            "Invalid geometry: polygon 0 exterior: vertices must be [x, y] number pairs (not text or true/false)",
        ),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], [5, True], [1, 5]]}]}},
            "Invalid geometry: polygon 0 exterior: vertices must be [x, y] number pairs (not text or true/false)",
        ),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], ["5", "1"], [1, 5]]}]}},
            "Invalid geometry: polygon 0 exterior: vertices must be [x, y] number pairs (not text or true/false)",
        ),
        (
            {"geometry": "a square"},
            'Invalid geometry: geometry must be {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}',
        ),
        ({"defect_class_id": "crack"}, "defect_class_id: A valid integer is required."),
        ({"geometry": None}, "geometry: This field may not be null."),
        ({"severity_id": [1]}, "severity_id: A valid integer is required."),
    ],
)
def test_malformed_annotation_is_refused_with_a_reason(team, api, image, body, message):
    # given
    request = {"defect_class_id": team.defect_class.pk, "geometry": square(10, 10, 10), **body}
    # when
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/annotations/", request)
    # then
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert (Annotation.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"expected_revision": "one"}, "expected_revision: A valid integer is required."),
        ({"expected_revision": 0}, "expected_revision: Ensure this value is greater than or equal to 1."),
        ({"geometry": square(-5, 10, 10)}, "Invalid geometry: polygon 0: vertices lie outside the 64x48 image"),
        (
            {"geometry": {"polygons": [{"exterior": [[1, 1], [9, 1], [9, 9]], "holes": "none"}]}},
            "Invalid geometry: polygon 0: holes must be a list of rings",
        ),
    ],
)
def test_malformed_save_is_refused_and_nothing_changes(team, api, annotation, body, message):
    # given
    before = snapshot(annotation)
    # when
    response = api(team.inspector).put(f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, **body})
    # then
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert snapshot(annotation) == before


@pytest.mark.django_db
def test_another_projects_defect_class_is_refused(team, api, image):
    # given
    foreign_class = DefectClassFactory.create(project=ProjectFactory.create(), name="crack")
    # when
    response = api(team.admin).post(
        f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": foreign_class.pk, "geometry": square(1, 1, 9)}
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "No such defect class in this project."},
    )
    assert (Annotation.objects.count(), AuditEntry.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_moving_an_annotation_to_another_projects_defect_class_is_refused(team, api, annotation):
    # given
    foreign_class = DefectClassFactory.create(project=ProjectFactory.create(), name="pore")
    before = snapshot(annotation)
    # when
    response = api(team.senior).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "defect_class_id": foreign_class.pk}
    )
    # then
    assert (response.status_code, response.json()["message"]) == (400, "No such defect class in this project.")
    assert snapshot(annotation) == before


@pytest.mark.django_db
def test_another_class_severity_is_refused(team, api, image):
    # given
    pore = DefectClassFactory.create(project=team.project, name="pore")
    # when
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/annotations/",
        {"defect_class_id": pore.pk, "severity_id": team.severity.pk, "geometry": square(1, 1, 9)},
    )
    # then
    assert (response.status_code, response.json()["message"]) == (
        400,
        "That severity level does not belong to 'pore'.",
    )
    assert Annotation.objects.count() == 0


# The audit trail


@pytest.mark.django_db
def test_create_save_and_delete_are_audited_with_before_and_after(team, api, image):
    # given
    client = api(team.inspector)
    # when
    created = client.post(
        f"/api/v1/images/{image.pk}/annotations/",
        {"defect_class_id": team.defect_class.pk, "severity_id": team.severity.pk, "geometry": square(1, 1, 9)},
    ).json()
    client.put(f"/api/v1/annotations/{created['id']}/", {"expected_revision": 1, "geometry": square(2, 2, 9)})
    client.delete(f"/api/v1/annotations/{created['id']}/?expected_revision=2")
    # then
    version_1 = {
        "image_id": image.pk,
        "defect_class_id": team.defect_class.pk,
        "severity_id": team.severity.pk,
        "geometry": stored(square(1, 1, 9)),
        "source": "manual",
        "author_id": team.inspector.pk,
        "is_final": False,
        "revision": 1,
    }
    version_2 = {**version_1, "geometry": stored(square(2, 2, 9)), "revision": 2}
    entries = AuditEntry.objects.order_by("id")
    assert [
        (entry.project_id, entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.before, entry.after)
        for entry in entries
    ] == [
        (team.project.pk, team.inspector.pk, "create", "annotation", created["id"], None, version_1),
        (team.project.pk, team.inspector.pk, "update", "annotation", created["id"], version_1, version_2),
        (team.project.pk, team.inspector.pk, "delete", "annotation", created["id"], version_2, None),
    ]
    assert Annotation.objects.count() == 0


@pytest.mark.django_db
def test_a_conflict_shows_the_stored_outline_though_a_save_leaves_it_unread(team, api, annotation):
    # given
    path = f"/api/v1/annotations/{annotation.pk}/"
    api(team.inspector).put(path, {"expected_revision": 1, "geometry": square(12, 12, 10)})
    # when
    late = api(team.senior).put(path, {"expected_revision": 1, "geometry": square(30, 30, 10)})
    # then
    assert (late.status_code, late.json()["current"]["geometry"]) == (409, stored(square(12, 12, 10)))


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["postgresql", "elsewhere"])  # one statement, or the SQLite demo's three
def test_a_save_is_audited_alike_on_either_path(team, annotation, vendor, monkeypatch):
    # given
    from django.db import connection

    before = {
        "image_id": annotation.image_id,
        "defect_class_id": annotation.defect_class_id,
        "severity_id": annotation.severity_id,
        "geometry": annotation.geometry,
        "source": annotation.source,
        "author_id": annotation.author_id,
        "is_final": False,
        "revision": 1,
    }
    monkeypatch.setattr(connection, "vendor", vendor)
    # when
    annotation_save(user=team.senior, annotation_id=annotation.pk, expected_revision=1, geometry_data=square(4, 4, 7))
    # then
    entry = AuditEntry.objects.get(action="update")
    assert (entry.actor_id, entry.object_id, entry.before, entry.after) == (
        team.senior.pk,
        annotation.pk,
        before,
        {**before, "geometry": stored(square(4, 4, 7)), "revision": 2},
    )
