"""The audit list sends each entry's snapshots as stored (the database's JSON text): the same body as a serializer
would give, newest first, paged by a cursor."""

import pytest
from rest_framework import serializers

from annotation.models import AuditEntry
from annotation.tests.editing import assign, create_square
from tests.factories import image_create


@pytest.mark.django_db
def test_the_audit_list_sends_whole_entries_newest_first(team, api):
    # given: a drawn square (a "create" entry with the geometry) and an entry without snapshots
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    square = create_square(team.inspector, image, team.defect_class)
    bare = AuditEntry.objects.create(project=team.project, action="delete", object_type="image", object_id=image.pk)
    created = AuditEntry.objects.get(object_type="annotation", object_id=square.pk)
    # when
    body = api(team.admin).get(f"/api/v1/projects/{team.project.pk}/audit/?page_size=1").json()
    second = api(team.admin).get(body["next"]).json()
    # then
    assert body["results"] == [
        {
            "id": bare.pk,
            "actor": None,
            "action": "delete",
            "object_type": "image",
            "object_id": image.pk,
            "before": None,
            "after": None,
            "created_at": serializers.DateTimeField().to_representation(bare.created_at),
        }
    ]
    entry = next(entry for entry in second["results"])
    assert entry == {
        "id": created.pk,
        "actor": "inspector",
        "action": "create",
        "object_type": "annotation",
        "object_id": square.pk,
        "before": None,
        "after": created.after,
        "created_at": serializers.DateTimeField().to_representation(created.created_at),
    }
    assert entry["after"]["geometry"]["polygons"][0]["exterior"][0] == [10.0, 10.0]
