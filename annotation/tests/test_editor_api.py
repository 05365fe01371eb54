"""The editor's server side: image-editor in one request, queue-next, the defect-free judgement, and conflicts
on annotations someone else saved or deleted."""

import pytest
from django.test import override_settings

from annotation.models import Annotation, Assignment, AssignmentStatus, AuditEntry, ImageComment
from annotation.services.annotations import annotation_delete
from annotation.tests.editing import SQUARE, annotation_body, assign, create_square
from annotation.tests.test_api_contract import TIMESTAMP, blank_timestamps
from tests.factories import DefectClassFactory, SeverityLevelFactory, image_create


@pytest.mark.django_db
def test_image_editor_contract(team, api):
    # given: a calibrated project; the inspector's queue holds three images, the middle one a tiled line scan
    team.project.px_per_mm = 12.5
    team.project.save()
    first = image_create(project=team.project, seed=1, name="first.png")
    with override_settings(DEFECTLAB_PYRAMID_MIN_PX=64, DEFECTLAB_PYRAMID_TILE_PX=32):
        line_scan = image_create(project=team.project, width=100, height=40, seed=2, name="line-scan.png")
    third = image_create(project=team.project, seed=3, name="third.png")
    assign(team, [first, line_scan, third])
    assign(team, [line_scan], annotator=team.senior)
    scratch = DefectClassFactory.create(project=team.project, name="scratch", position=1, min_area_px=4)
    DefectClassFactory.create(project=team.project, name="stain", position=2, is_active=False)  # retired, unused
    own = create_square(team.inspector, line_scan, team.defect_class, team.severity)
    retired_but_used = create_square(team.inspector, line_scan, scratch)
    scratch.is_active = False
    scratch.save()
    seniors = create_square(team.senior, line_scan, team.defect_class)  # dual annotation: hidden from the inspector
    question = ImageComment.objects.create(image=line_scan, author=team.inspector, annotation=own, text="Crack?")
    ImageComment.objects.create(image=line_scan, author=team.senior, annotation=seniors, text="Mine is longer.")
    answer = ImageComment.objects.create(image=line_scan, author=team.senior, text="Yes, a crack.")
    Assignment.objects.filter(image=line_scan, annotator=team.inspector).update(
        status=AssignmentStatus.RETURNED, review_comment="The crack goes on to the edge."
    )
    # when
    response = api(team.inspector).get(f"/api/v1/images/{line_scan.pk}/editor/")
    # then
    assignment = Assignment.objects.get(image=line_scan, annotator=team.inspector)
    assert response.status_code == 200
    assert blank_timestamps(response.json()) == {
        "image": {
            "id": line_scan.pk,
            "project_id": team.project.pk,
            "sha256": line_scan.sha256,
            "original_filename": "line-scan.png",
            "width": 100,
            "height": 40,
            "bit_depth": 8,
            "channels": 1,
            "source_type": "L",
            "format": "PNG",
            "file_size_bytes": line_scan.file_size_bytes,
            "status": "in_progress",
            "is_defect_free": False,
            "acquired_at": None,
            "created_at": TIMESTAMP,
            "urls": {
                "original": f"/api/v1/images/{line_scan.pk}/file/original",
                "display": f"/api/v1/images/{line_scan.pk}/file/display",
                "thumbnail": f"/api/v1/images/{line_scan.pk}/file/thumbnail",
            },
            "metadata": {
                "dpi": None,
                "exif": {},
                "camera": None,
                "color_space": "grayscale",
                "original_filename": "line-scan.png",
            },
            "pyramid": {
                "tile_size": 32,
                "format": "jpg",
                "levels": [
                    {"level": 0, "width": 100, "height": 40, "columns": 4, "rows": 2},
                    {"level": 1, "width": 50, "height": 20, "columns": 2, "rows": 1},
                    {"level": 2, "width": 25, "height": 10, "columns": 1, "rows": 1},
                ],
                "url_template": f"/api/v1/images/{line_scan.pk}/tiles/{{level}}/{{column}}/{{row}}",
            },
        },
        "project": {
            "id": team.project.pk,
            "slug": "tile-line",
            "name": "Tile line",
            "px_per_mm": 12.5,
            "taxonomy_revision": 1,
        },
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
                "severity_levels": [{"id": team.severity.pk, "name": "minor", "criterion": "", "rank": 1}],
            },
            {
                "id": scratch.pk,
                "name": "scratch",
                "color": "#e6194b",
                "description": "",
                "geometry_kind": "area",
                "position": 1,
                "is_active": False,
                "min_length_px": None,
                "min_width_px": None,
                "min_height_px": None,
                "min_area_px": 4.0,
                "min_length_mm": None,
                "min_width_mm": None,
                "min_height_mm": None,
                "min_area_mm2": None,
                "severity_levels": [],
            },
        ],
        "annotations": [annotation_body(own), annotation_body(retired_but_used)],
        "role": "inspector",
        "capabilities": {"can_label": True, "can_review": False},
        "assignment": {
            "id": assignment.pk,
            "status": "returned",
            "review_comment": "The crack goes on to the edge.",
            "submitted_at": None,
        },
        "comments": [
            {
                "id": question.pk,
                "image_id": line_scan.pk,
                "annotation_id": own.pk,
                "author_id": team.inspector.pk,
                "author": "inspector",
                "text": "Crack?",
                "created_at": TIMESTAMP,
            },
            {
                "id": answer.pk,
                "image_id": line_scan.pk,
                "annotation_id": None,
                "author_id": team.senior.pk,
                "author": "senior",
                "text": "Yes, a crack.",
                "created_at": TIMESTAMP,
            },
        ],
        "queue": {"previous_image_id": first.pk, "next_image_id": third.pk},
    }


@pytest.mark.django_db
def test_image_editor_reads_in_a_bounded_number_of_queries(team, api, django_assert_max_num_queries):
    # given: many annotations, classes with severities and comments must not add queries
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    client = api(team.inspector)
    with django_assert_max_num_queries(10):
        small = client.get(f"/api/v1/images/{image.pk}/editor/")
    for index in range(6):
        defect_class = DefectClassFactory.create(project=team.project, name=f"class{index}")
        SeverityLevelFactory.create(defect_class=defect_class, rank=1)
        annotation = create_square(team.inspector, image, defect_class)
        ImageComment.objects.create(image=image, author=team.inspector, annotation=annotation, text="see")
    # when: image, role, assignment check, annotations, previous, next, classes, severities, assignment, comments
    with django_assert_max_num_queries(10):
        large = client.get(f"/api/v1/images/{image.pk}/editor/")
    # then
    assert (small.status_code, large.status_code) == (200, 200)
    assert (len(large.json()["annotations"]), len(large.json()["defect_classes"]), len(large.json()["comments"])) == (
        6,
        7,
        6,
    )


@pytest.mark.django_db
def test_a_reviewer_opening_an_image_outside_their_queue_sees_everything_and_no_assignment(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    queued = image_create(project=team.project, seed=2)
    assign(team, [image])
    assign(team, [queued], annotator=team.senior)
    inspectors = create_square(team.inspector, image, team.defect_class)
    # when
    body = api(team.senior).get(f"/api/v1/images/{image.pk}/editor/").json()
    # then
    assert [annotation["id"] for annotation in body["annotations"]] == [inspectors.pk]
    assert (body["role"], body["capabilities"], body["assignment"]) == (
        "senior",
        {"can_label": True, "can_review": True},
        None,
    )
    assert body["queue"] == {"previous_image_id": queued.pk, "next_image_id": queued.pk}


@pytest.mark.django_db
def test_an_ml_engineer_may_look_but_not_label(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    # when
    body = api(team.ml_engineer).get(f"/api/v1/images/{image.pk}/editor/").json()
    # then
    assert (body["role"], body["capabilities"], body["queue"]) == (
        "ml_engineer",
        {"can_label": False, "can_review": False},
        {"previous_image_id": None, "next_image_id": None},
    )


# queue-next


@pytest.fixture
def deleted(team):
    """The inspector's annotation, deleted by the senior while the inspector was still editing it."""
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    annotation = create_square(team.inspector, image, team.defect_class)
    annotation_delete(user=team.senior, annotation_id=annotation.pk, expected_revision=1)
    return annotation


@pytest.mark.django_db
def test_saving_a_deleted_annotation_is_a_conflict_with_no_current_version(team, api, deleted):
    # given
    audit_count = AuditEntry.objects.count()
    # when
    response = api(team.inspector).put(
        f"/api/v1/annotations/{deleted.pk}/", {"expected_revision": 1, "geometry": SQUARE}
    )
    # then
    assert (response.status_code, response.json()) == (
        409,
        {
            "code": "annotation_conflict",
            "message": "Someone deleted this annotation while you were editing it.",
            "current_revision": None,
            "current": None,
        },
    )
    assert (Annotation.objects.count(), AuditEntry.objects.count()) == (0, audit_count)


@pytest.mark.django_db
def test_deleting_a_deleted_annotation_is_a_conflict_too(team, api, deleted):
    # when
    response = api(team.inspector).delete(f"/api/v1/annotations/{deleted.pk}/?expected_revision=1")
    # then
    assert (response.status_code, response.json()["code"], response.json()["current"]) == (
        409,
        "annotation_conflict",
        None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status", "code"), [("outsider", 404, "not_found"), ("ml_engineer", 403, "permission_denied")]
)
def test_a_deleted_annotation_stays_hidden_from_those_who_could_not_edit_it(team, api, deleted, role, status, code):
    # when
    response = api(team.member(role)).put(f"/api/v1/annotations/{deleted.pk}/", {"expected_revision": 1})
    # then
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.django_db
def test_a_conflicting_delete_carries_the_whole_current_version(team, api):
    # given: the senior changed the severity (revision 2)
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    annotation = create_square(team.inspector, image, team.defect_class)
    api(team.senior).put(
        f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "severity_id": team.severity.pk}
    )
    # when
    response = api(team.inspector).delete(f"/api/v1/annotations/{annotation.pk}/?expected_revision=1")
    # then
    assert response.status_code == 409
    assert blank_timestamps(response.json()) == {
        "code": "annotation_conflict",
        "message": "Someone changed this annotation (now revision 2) before your delete.",
        "current_revision": 2,
        "current": annotation_body(annotation, severity_id=team.severity.pk, revision=2),
    }
    assert Annotation.objects.filter(pk=annotation.pk).exists()


@pytest.mark.django_db
def test_an_autosave_reads_only_what_it_must(team, api, django_assert_max_num_queries):
    # given
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    annotation = create_square(team.inspector, image, team.defect_class, team.severity)
    moved = {"polygons": [{"exterior": [[12, 12], [22, 12], [22, 22], [12, 22]]}]}
    # when: savepoint, the locked annotation read with its image, project, class, severity and the user's access,
    # update, audit entry, release
    with django_assert_max_num_queries(5):
        response = api(team.inspector).put(
            f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": moved}
        )
    # then
    assert (response.status_code, response.json()["revision"], response.json()["severity_id"]) == (
        200,
        2,
        team.severity.pk,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("provenance", [None, {"engine": "sam-vit_t", "seed": 2**70}])  # past 64 bits: not orjson's
def test_the_editors_annotations_are_what_the_serializer_renders_to_the_microsecond(team, api, provenance):
    import json

    from rest_framework.renderers import JSONRenderer

    from annotation.api.serializers import AnnotationOutput

    # given
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    annotation = create_square(team.inspector, image, team.defect_class, team.severity)
    Annotation.objects.filter(pk=annotation.pk).update(provenance=provenance)
    annotation.refresh_from_db()
    # when
    response = api(team.inspector).get(f"/api/v1/images/{image.pk}/editor/")
    # then
    assert response.status_code == 200
    expected = json.loads(JSONRenderer().render(AnnotationOutput(annotation).data))
    assert response.json()["annotations"] == [expected]
    assert expected["created_at"].endswith("Z")
    assert "." in expected["created_at"]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])  # Berlin: the datetimes are read and DRF formats them
def test_the_editors_timestamps_are_drfs_text_with_and_without_a_fraction(team, api, zone, settings):
    import datetime
    import json

    from rest_framework.renderers import JSONRenderer

    from annotation.api.serializers import AnnotationOutput

    # given
    settings.TIME_ZONE = zone
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    annotation = create_square(team.inspector, image, team.defect_class, team.severity)
    utc = datetime.UTC
    Annotation.objects.filter(pk=annotation.pk).update(
        created_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc),
        updated_at=datetime.datetime(2026, 7, 8, 9, 10, 11, 7, tzinfo=utc),
    )
    annotation.refresh_from_db()
    # when
    response = api(team.inspector).get(f"/api/v1/images/{image.pk}/editor/")
    # then
    expected = json.loads(JSONRenderer().render(AnnotationOutput(annotation).data))
    body = response.json()["annotations"][0]
    assert (body["created_at"], body["updated_at"]) == (expected["created_at"], expected["updated_at"])
    if zone == "UTC":
        assert (body["created_at"], body["updated_at"]) == ("2026-01-02T03:04:05Z", "2026-07-08T09:10:11.000007Z")
