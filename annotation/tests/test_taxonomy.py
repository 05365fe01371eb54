"""The defect taxonomy through the API: every change is audited and bumps the project's taxonomy revision."""

import pytest

from annotation.models import AuditEntry, DefectClass, Project, SeverityLevel
from annotation.services.annotations import annotation_create
from tests.factories import DefectClassFactory, image_create

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}
CRACK_SNAPSHOT = {
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
}


def taxonomy_revision(project: Project) -> int:
    return Project.objects.get(pk=project.pk).taxonomy_revision


def levels(defect_class: DefectClass) -> list[tuple[int, str, int]]:
    return list(
        SeverityLevel.objects.filter(defect_class=defect_class).order_by("rank").values_list("pk", "name", "rank")
    )


@pytest.fixture
def crack_in_use(team):
    """The team's crack class with one annotation on it."""
    image = image_create(project=team.project, seed=1)
    annotation_create(user=team.admin, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE)
    return team.defect_class


@pytest.mark.django_db
def test_admin_creates_a_defect_class_with_an_audit_entry_and_a_new_taxonomy_revision(team, api):
    # when
    response = api(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/defect-classes/",
        {
            "name": "pore",
            "color": "#3cb44b",
            "min_area_px": 25,
            "min_area_mm2": 0.5,
            "severity_levels": [{"name": "small", "criterion": "under 1 mm"}, {"name": "large"}],
        },
    )
    # then
    assert response.status_code == 201
    pore = DefectClass.objects.get(project=team.project, name="pore")
    (small, _, _), (large, _, _) = levels(pore)
    assert response.json() == {
        "id": pore.pk,
        "name": "pore",
        "color": "#3cb44b",
        "description": "",
        "geometry_kind": "area",
        "position": 1,  # after crack
        "is_active": True,
        "min_length_px": None,
        "min_width_px": None,
        "min_height_px": None,
        "min_area_px": 25.0,
        "min_length_mm": None,
        "min_width_mm": None,
        "min_height_mm": None,
        "min_area_mm2": 0.5,
        "severity_levels": [
            {"id": small, "name": "small", "criterion": "under 1 mm", "rank": 1},
            {"id": large, "name": "large", "criterion": "", "rank": 2},
        ],
    }
    entry = AuditEntry.objects.get()
    assert (entry.project_id, entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.before) == (
        team.project.pk,
        team.admin.pk,
        "create",
        "defect_class",
        pore.pk,
        None,
    )
    assert entry.after == {
        **CRACK_SNAPSHOT,
        "name": "pore",
        "color": "#3cb44b",
        "position": 1,
        "min_area_px": 25.0,
        "min_area_mm2": 0.5,
        "severity_levels": [
            {"id": small, "name": "small", "criterion": "under 1 mm", "rank": 1},
            {"id": large, "name": "large", "criterion": "", "rank": 2},
        ],
    }
    assert taxonomy_revision(team.project) == 2


@pytest.mark.django_db
def test_admin_updates_a_defect_class_with_before_and_after_in_the_audit(team, api):
    # when
    response = api(team.admin).patch(
        f"/api/v1/defect-classes/{team.defect_class.pk}/",
        {"geometry_kind": "linear", "min_length_mm": 1.5},
    )
    # then
    assert (response.status_code, response.json()["geometry_kind"], response.json()["min_length_mm"]) == (
        200,
        "linear",
        1.5,
    )
    minor = {"id": team.severity.pk, "name": "minor", "criterion": "", "rank": 1}
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.action, entry.object_type, entry.object_id) == (
        team.admin.pk,
        "update",
        "defect_class",
        team.defect_class.pk,
    )
    assert entry.before == {**CRACK_SNAPSHOT, "severity_levels": [minor]}
    assert entry.after == {
        **CRACK_SNAPSHOT,
        "geometry_kind": "linear",
        "min_length_mm": 1.5,
        "severity_levels": [minor],
    }
    assert taxonomy_revision(team.project) == 2


@pytest.mark.django_db
def test_severity_levels_keep_the_order_given_and_their_ids(team, api):
    # given: minor (rank 1); add two more, then move the mildest last
    client = api(team.admin)
    path = f"/api/v1/defect-classes/{team.defect_class.pk}/"
    client.patch(path, {"severity_levels": [{"name": "minor"}, {"name": "major"}, {"name": "critical"}]})
    major, critical = (
        SeverityLevel.objects.get(defect_class=team.defect_class, name=name).pk for name in ("major", "critical")
    )
    # when
    response = client.patch(path, {"severity_levels": [{"name": "critical"}, {"name": "major"}, {"name": "minor"}]})
    # then
    assert response.status_code == 200
    assert [(level["id"], level["name"], level["rank"]) for level in response.json()["severity_levels"]] == [
        (critical, "critical", 1),
        (major, "major", 2),
        (team.severity.pk, "minor", 3),
    ]
    listed = client.get(f"/api/v1/projects/{team.project.pk}/defect-classes/").json()
    assert [level["name"] for level in listed[0]["severity_levels"]] == ["critical", "major", "minor"]
    assert taxonomy_revision(team.project) == 3


@pytest.mark.django_db
def test_deleting_a_defect_class_in_use_is_refused(team, api, crack_in_use):
    # given
    audit_count = AuditEntry.objects.count()
    # when
    response = api(team.admin).delete(f"/api/v1/defect-classes/{crack_in_use.pk}/")
    # then
    assert (response.status_code, response.json()) == (
        409,
        {"code": "in_use", "message": "'crack' is used by 1 annotations: deactivate it instead of deleting it."},
    )
    assert DefectClass.objects.filter(pk=crack_in_use.pk).exists()
    assert levels(crack_in_use) == [(team.severity.pk, "minor", 1)]
    assert AuditEntry.objects.count() == audit_count
    assert taxonomy_revision(team.project) == 1


@pytest.mark.django_db
def test_deleting_an_unused_defect_class_is_audited(team, api):
    # given
    scratch = DefectClassFactory.create(project=team.project, name="scratch", position=1)
    # when
    response = api(team.admin).delete(f"/api/v1/defect-classes/{scratch.pk}/")
    # then
    assert response.status_code == 204
    assert not DefectClass.objects.filter(pk=scratch.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.before, entry.after) == (
        "delete",
        "defect_class",
        scratch.pk,
        {**CRACK_SNAPSHOT, "name": "scratch", "position": 1, "severity_levels": []},
        None,
    )
    assert taxonomy_revision(team.project) == 2


@pytest.mark.django_db
def test_a_class_in_use_can_be_retired_and_then_takes_no_new_annotations(team, api, crack_in_use):
    # given
    api(team.admin).patch(f"/api/v1/defect-classes/{crack_in_use.pk}/", {"is_active": False})
    image = image_create(project=team.project, seed=2)
    # when
    response = api(team.admin).post(
        f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": crack_in_use.pk, "geometry": SQUARE}
    )
    # then
    assert (response.status_code, response.json()["message"]) == (
        400,
        "The defect class 'crack' is retired; pick another.",
    )
    assert image.annotations.count() == 0


@pytest.mark.django_db
def test_removing_a_severity_level_in_use_is_refused_and_nothing_changes(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    annotation_create(
        user=team.admin,
        image_id=image.pk,
        defect_class_id=team.defect_class.pk,
        severity_id=team.severity.pk,
        geometry_data=SQUARE,
    )
    audit_count = AuditEntry.objects.count()
    # when
    response = api(team.admin).patch(
        f"/api/v1/defect-classes/{team.defect_class.pk}/",
        {"description": "new", "severity_levels": [{"name": "major"}]},
    )
    # then
    assert (response.status_code, response.json()["message"]) == (
        400,
        "Severity level 'minor' is used by annotations and cannot be removed.",
    )
    team.defect_class.refresh_from_db()
    assert (team.defect_class.description, levels(team.defect_class)) == ("", [(team.severity.pk, "minor", 1)])
    assert AuditEntry.objects.count() == audit_count
    assert taxonomy_revision(team.project) == 1


@pytest.mark.django_db
def test_a_duplicate_class_name_is_refused(team, api):
    # given
    DefectClassFactory.create(project=team.project, name="pore")
    # when
    created = api(team.admin).post(f"/api/v1/projects/{team.project.pk}/defect-classes/", {"name": "pore"})
    renamed = api(team.admin).patch(f"/api/v1/defect-classes/{team.defect_class.pk}/", {"name": "pore"})
    # then
    assert [(response.status_code, response.json()["message"]) for response in (created, renamed)] == [
        (400, "The project already has a defect class named 'pore'."),
        (400, "The project already has a defect class named 'pore'."),
    ]
    assert sorted(DefectClass.objects.filter(project=team.project).values_list("name", flat=True)) == ["crack", "pore"]
    assert (AuditEntry.objects.count(), taxonomy_revision(team.project)) == (0, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["inspector", "senior", "ml_engineer"])
def test_only_admins_change_the_taxonomy(team, api, role):
    # when
    response = api(team.member(role)).patch(f"/api/v1/defect-classes/{team.defect_class.pk}/", {"name": "fracture"})
    # then
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    team.defect_class.refresh_from_db()
    assert team.defect_class.name == "crack"
    assert (AuditEntry.objects.count(), taxonomy_revision(team.project)) == (0, 1)
