"""The keyset lists read their (project, ...) index at any depth: the plans PostgreSQL picks for the statements the
API runs, on 100,000 rows in two projects (made by generate_series, then analysed as autovacuum would), laid out
as two lines uploading at once (interleaved) and as a new project after an old one's year (clustered), where
ordering by id alone lets PostgreSQL walk the primary key through the other project's rows
(defectlab/keyset.py)."""

import base64
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation.models import AuditEntry, Image
from tests.factories import ProjectFactory, image_create

IMAGES = 100_000  # in two projects
SHARE_OF_PROJECT = 5  # one image in 5 is the listed project's: 20,000 of them
LAYOUTS = {  # SQL of g (the row's number, 1..count): is the row the listed project's? %% is %: there are parameters
    "interleaved": f"g %% {SHARE_OF_PROJECT} = 0",  # two lines uploading at once
    "after": f"g > {IMAGES} - {IMAGES} / {SHARE_OF_PROJECT}",  # the last fifth: a new project after an old one
    "before": f"g <= {IMAGES} / {SHARE_OF_PROJECT}",  # the first fifth: an old project, then a busy new one
}


def rows_copy(model, *, source_id: int, count: int, overrides: dict[str, str]) -> None:
    """`count` copies of row `source_id` of `model`'s table, every column copied unless overridden (SQL of g,
    the copy's number)."""
    columns = [field.column for field in model._meta.concrete_fields if field.column != "id"]
    select = ", ".join(overrides.get(column, f"o.{column}") for column in columns)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} "  # noqa: S608 - names from the model
            f"FROM generate_series(1, %s) g, {table} o WHERE o.id = %s",
            [count, source_id],
        )
        cursor.execute(f"ANALYZE {table}")


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def statement_on(table: str, captured: CaptureQueriesContext) -> str:
    """The one statement of the request that reads `table` in order (the page), with its values bound."""
    (sql,) = [
        query["sql"]
        for query in captured.captured_queries
        if f'FROM "{table}"' in query["sql"] and "ORDER" in query["sql"]
    ]
    return sql


def cursor_after(position: int) -> str:
    """A keyset cursor of IdCursorPagination that continues after `position` (DRF's encoding)."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


@pytest.fixture(params=["interleaved", "after"])  # oldest first: other rows before the project's are the risk
def many_images(request, team) -> list[int]:
    """IMAGES images of every status, one in SHARE_OF_PROJECT of them the team's project's (laid out as the
    parameter says), the rest another's; the ids of the team's project's, in order."""
    source = image_create(project=team.project, seed=1)
    other = ProjectFactory.create(name="Other plant", slug="other-plant")
    rows_copy(
        Image,
        source_id=source.pk,
        count=IMAGES,
        overrides={
            "project_id": f"CASE WHEN {LAYOUTS[request.param]} THEN {team.project.pk} ELSE {other.pk} END",
            "sha256": "md5(g::text) || md5(g::text)",
            "status": "(ARRAY['new', 'assigned', 'in_progress', 'submitted', 'in_review', 'final'])[1 + g %% 6]",
        },
    )
    return list(Image.objects.filter(project=team.project).order_by("id").values_list("id", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [0.0, 0.5])
def test_the_image_list_reads_the_project_id_index_at_any_depth(team, api, many_images, depth):
    # Near the end of the table PostgreSQL may instead read the few rows left after the cursor by primary key and
    # sort them (it knows how many are left from the index's end): also bounded, and not asserted here.
    # given
    path = f"/api/v1/projects/{team.project.pk}/images/"
    start = int(len(many_images) * depth)
    if depth:
        path += f"?cursor={cursor_after(many_images[start - 1])}"
    # when
    with CaptureQueriesContext(connection) as captured:
        response = api(team.senior).get(path)
    plan = plan_of(statement_on("annotation_image", captured))
    # then: the page, in id order, from one range read of the index, stopped by the LIMIT; no sort, no other index
    assert response.status_code == 200
    assert [image["id"] for image in response.json()["results"]] == many_images[start : start + 100]
    assert "Index Scan using image_project_id on annotation_image" in plan, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.django_db
def test_the_image_list_by_status_reads_the_project_status_index(team, api, many_images):
    # when
    with CaptureQueriesContext(connection) as captured:
        response = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/images/?status=submitted")
    plan = plan_of(statement_on("annotation_image", captured))
    # then
    assert response.status_code == 200
    assert {image["status"] for image in response.json()["results"]} == {"submitted"}
    assert "Index Scan using image_project_status on annotation_image" in plan, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.django_db
@pytest.mark.parametrize("layout", ["interleaved", "before"])  # newest first: other rows after the project's
def test_the_audit_list_reads_the_project_id_index_newest_first(team, api, layout):
    # given: IMAGES entries, one in SHARE_OF_PROJECT of them the team's project's
    image = image_create(project=team.project, seed=1)
    entry = AuditEntry.objects.create(
        project=team.project, action="create", object_type="image", object_id=image.pk, after={"status": "new"}
    )
    other = ProjectFactory.create(name="Other plant", slug="other-plant")
    rows_copy(
        AuditEntry,
        source_id=entry.pk,
        count=IMAGES,
        overrides={
            "object_id": "g",
            "project_id": f"CASE WHEN {LAYOUTS[layout]} THEN {team.project.pk} ELSE {other.pk} END",
        },
    )
    # when
    with CaptureQueriesContext(connection) as captured:
        response = api(team.admin).get(f"/api/v1/projects/{team.project.pk}/audit/")
    plan = plan_of(statement_on("annotation_auditentry", captured))
    # then
    assert response.status_code == 200
    assert "Index Scan Backward using audit_project_id on annotation_auditentry" in plan, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.fixture
def long_queue(team) -> list[int]:
    """IMAGES images of the team's project, one in 40 assigned to the inspector (one of 40 annotators), the rest to
    another, one in 10 of the inspector's still open, the rest submitted, as after a plant's months of work
    (bench/scale.py at a million images: 21,000 assignments an inspector, 1,800 open); the inspector's open
    images, in queue order."""
    source = image_create(project=team.project, seed=1)
    rows_copy(Image, source_id=source.pk, count=IMAGES, overrides={"sha256": "md5(g::text) || md5(g::text)"})
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO annotation_assignment (image_id, annotator_id, status, created_at, review_comment)
            SELECT i.id, CASE WHEN i.id %% 40 = 0 THEN %(inspector)s ELSE %(other)s END,
                   CASE WHEN i.id %% 400 = 0 THEN 'assigned' WHEN i.id %% 400 = 40 THEN 'returned'
                        ELSE 'submitted' END,
                   now(), ''
            FROM annotation_image i WHERE i.project_id = %(project)s ORDER BY i.id;
            ANALYZE annotation_assignment;
            """,
            {"inspector": team.inspector.pk, "other": team.senior.pk, "project": team.project.pk},
        )
    return [
        image_id
        for image_id in Image.objects.filter(project=team.project).order_by("id").values_list("id", flat=True)
        if image_id % 400 in (0, 40)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["middle", "last"])  # the last one wraps round to the first
def test_queue_next_reads_the_open_queue_index_from_the_current_image(team, api, long_queue, where):
    # given
    at = len(long_queue) // 2 if where == "middle" else len(long_queue) - 1
    # when
    with CaptureQueriesContext(connection) as captured:
        response = api(team.inspector).get(f"/api/v1/queue/next/?after={long_queue[at]}")
    plans = [plan_of(query["sql"]) for query in captured.captured_queries if "ORDER BY" in query["sql"]]
    # then: the next open image from one statement: the near side's and the whole queue's first rows, each read
    # from the open-queue index and stopped at its first row; the only sort puts those two rows in step order
    assert response.status_code == 200
    assert response.json()["image"]["id"] == long_queue[(at + 1) % len(long_queue)]
    (plan,) = [plan for plan in plans if "Append" in plan]
    assert plan.count("Index Scan using assignment_open_queue") == 2, plan
    assert [line.strip() for line in plan.splitlines() if "Sort Key" in line] == ["Sort Key: (0)"], plan
    assert "Seq Scan on annotation_assignment" not in plan, plan
