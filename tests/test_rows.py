"""defectlab.rows writes and reads exactly what the ORM would, with the SQL built once."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from annotation.models import Annotation, AuditAction, AuditEntry
from annotation.services.annotations import annotation_create
from annotation.services.images import assignments_create
from defectlab.rows import row_insert, row_select, row_update
from tests.factories import image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def annotation(team) -> Annotation:
    image = image_create(project=team.project, seed=1)
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.admin)
    return annotation_create(
        user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE
    )


SQUARE = {"polygons": [{"exterior": [[10, 10], [40, 10], [40, 40], [10, 40]]}]}


def test_row_insert_sets_the_key_and_the_creation_time(team):
    entry = row_insert(
        AuditEntry(
            project=team.project,
            actor=team.inspector,
            action=AuditAction.UPDATE,
            object_type="annotation",
            object_id=7,
            before={"geometry": SQUARE},
            after=None,
        )
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.before, stored.after) == (team.inspector.pk, {"geometry": SQUARE}, None)
    assert stored.created_at == entry.created_at
    assert abs(stored.created_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)


def test_row_insert_refuses_a_row_that_exists(team):
    entry = AuditEntry.objects.create(project=team.project, action="create", object_type="x", object_id=1)
    with pytest.raises(ValueError, match="new rows only"):
        row_insert(entry)


def test_row_update_writes_the_named_fields_and_refreshes_auto_now(annotation):
    before = annotation.updated_at
    annotation.geometry = {"polygons": [{"exterior": [[0, 0], [5, 0], [5, 5]]}]}
    annotation.revision = 9
    annotation.area_px = -1.0  # not named below: must stay as stored
    assert row_update(annotation, ["geometry", "revision", "updated_at"]) == 1
    stored = Annotation.objects.get(pk=annotation.pk)
    assert stored.geometry == annotation.geometry
    assert stored.revision == 9
    assert stored.area_px > 0
    assert stored.updated_at == annotation.updated_at > before


def test_row_update_of_a_deleted_row_writes_nothing(annotation):
    Annotation.objects.filter(pk=annotation.pk).delete()
    assert row_update(annotation, ["revision"]) == 0


def test_row_select_reads_an_instance_with_converted_values(team):
    users = get_user_model()
    table = users._meta.db_table
    found = row_select(users, alias="u", tail=f"FROM {table} u WHERE u.username = %s", params=["inspector"])
    assert found == team.inspector
    assert found.date_joined == users.objects.get(pk=team.inspector.pk).date_joined
    assert row_select(users, alias="u", tail=f"FROM {table} u WHERE u.username = %s", params=["nobody"]) is None
