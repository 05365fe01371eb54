"""A plant's year in one project: how the pages, the freeze and the exports grow from 10,000 to 1,000,000 images.

    python bench/scale.py --images 10000 --images 100000 --images 1000000

Each N gets a fresh PostgreSQL database (bench/_setup.py), dropped before the next N.

How the data is made (set-up, not timed; set-based SQL, no row passes through Python):
- the shared magnetic-tile set (428 images, 317 annotations) is imported for real, with its masks, through
  `images_import`: real stored files, real traced geometry, RLEs, boxes and audit entries;
- 48 users: 40 inspectors, 6 seniors, an ML engineer and an admin, members of the project;
- N - 428 more image rows, made by one INSERT ... SELECT over generate_series: each copies one imported image's
  row (its stored files are shared; its sha256 is the original's hashed with the copy number, so every row is a
  distinct image to a version). 7 % are copies of defect-free images. Statuses are spread as on a running line:
  85 % final, 3 % new, 4 % assigned, 3 % in progress, 3 % submitted, 2 % in review; creation times over a year;
- annotations: each copy of a defective image gets 1 to 6 (3.5 on average, so 3 per image over the project)
  copies of its original's real annotations (geometry, RLE, box, area, class: what ingestion traced), final on
  final images and the assignee's own work elsewhere, copied datum by datum inside PostgreSQL (with the stored
  outline on final ones); one audit "create" entry per annotation, with the geometry in its snapshot: the
  original annotation's own entry's snapshot, copied as stored (its ids are the original's; building one per
  row would take PostgreSQL 5 to 10 times as long, and the size read and sent is the same);
- assignments: every image past `new` has one (5 % of them two: the dual-annotated ones), submitted with a
  submission time over the year for images past `in progress`, open (assigned, in progress, returned) for the
  rest, so each inspector's queue holds about 1,750 open images at 1,000,000;
- a QA history: a policy, an agreement row for 5 % of the images with 3 defect matches each (IoU, classes,
  severity reasons), decided spot checks on 10 % of the final images (5 % of them rejected) in weekly samples,
  pending spot checks and adjudications for the images in review, and edge cases on 0.1 %;
- then VACUUM ANALYZE, as autovacuum would have done on a live database.

What is timed (requests through Django's test client, in this process: middleware, session login, views,
serializers and templates, without a network or a WSGI server; p95 over REQUESTS_PER_MEASURE requests after
WARM_UP_REQUESTS unmeasured ones, each request a new query):
- list: GET /api/v1/projects/{id}/images/ (first page of 100, keyset) as a senior;
- deep_list: the same list 90 % of the way down (a keyset cursor positioned there);
- project_page: GET /projects/{id}/ (status counts, defect classes with their counts, the first 60 images);
- queue_next: GET /api/v1/queue/next/?after=... as an inspector with an open queue;
- qa_statistics: GET /projects/{id}/qa/ (the QA page, from its stored statistics) as a senior, after the
  statistics' refresh (`qa_statistics_refresh`, what the periodic task runs), timed once (qa_statistics_refresh_s);
- audit: GET /api/v1/projects/{id}/audit/ (first page) as the admin;
- freeze: a dataset version freeze job (`dataset_version_freeze_start(run_here=True)`, the command line's way,
  the same job a worker runs) in a child process: wall time and the child's peak resident memory (VmHWM, which
  exec resets, so it is the freezing process's own: Django, its imports and the freeze);
- COCO and YOLO exports of that version (`dataset_export_build`, what the worker's job runs) each in a child
  process: seconds, peak memory, output size. YOLO only up to --yolo-max-images (default 100,000): at 1,000,000
  it alone would take a third of the 30 minutes this benchmark may run on the 2-core machine;
- database size per image (pg_database_size / N after VACUUM).

One JSON object per N, then growth ratios (largest N over smallest, beside N's own ratio), then a last line with
the largest N's figures and the ratios: {"images": .., "annotations": .., "list_p95_ms": .., ..., "growth": {..}}.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REQUESTS_PER_MEASURE = 30
WARM_UP_REQUESTS = 3
INSPECTORS = 40
SENIORS = 6
DEFECT_FREE_SHARE_PERCENT = 7
DUAL_SHARE_PERCENT = 5  # images with an agreement row (two annotators)
SPOT_CHECK_SHARE_PERCENT = 10  # final images whose single annotator's work was spot-checked
DEEP_LIST_FRACTION = 0.9
# Status by bucket (a hash of the copy number, 0..99): cumulative upper bounds.
STATUS_BUCKETS = (
    ("final", 85),
    ("new", 88),
    ("assigned", 92),
    ("in_progress", 95),
    ("submitted", 98),
    ("in_review", 100),
)


# Set-up ------------------------------------------------------------------------------------------------------


def _execute(sql: str, params: dict | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})  # always with parameters: every % in these statements is written %%
        return cursor.rowcount


def _scalar(sql: str, params: dict | None = None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchone()[0]


def _columns(model, *, with_id: bool = False) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if with_id or field.column != "id"]


def _insert_select(
    model, overrides: dict[str, str], source: str, params: dict | None = None, *, with_id: bool = False
) -> int:
    """INSERT INTO model's table SELECT ...: every column from `o` (the row copied) unless overridden."""
    columns = _columns(model, with_id=with_id)
    select = ", ".join(overrides.get(column, f"o.{column}") for column in columns)
    # S608 waived: identifiers come from the models, values are bound parameters.
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {select} {source}"  # noqa: S608
    return _execute(sql, params)


def users_create(project) -> dict[str, list[int]]:
    """The plant's people, as members of the project: {role: [user ids]}."""
    from django.contrib.auth import get_user_model

    from annotation.models import Membership, Role

    people = {
        Role.INSPECTOR: [f"bench-inspector-{number:02d}" for number in range(INSPECTORS)],
        Role.SENIOR: [f"bench-senior-{number}" for number in range(SENIORS)],
        Role.ML_ENGINEER: ["bench-ml"],
        Role.ADMIN: ["bench-admin"],
    }
    user_model = get_user_model()
    made = {}
    for role, usernames in people.items():
        users = user_model.objects.bulk_create([user_model(username=name, password="!") for name in usernames])  # noqa: S106
        Membership.objects.bulk_create([Membership(project=project, user=user, role=role) for user in users])
        made[role] = [user.pk for user in users]
    return made


def _hash_percent(salt: str, column: str) -> str:
    """A stable pseudo-random 0..99 from a column: spreads statuses and shares without random()."""
    return f"((hashtext('{salt}' || {column}) & 65535) %% 100)"


def images_create(project, *, images: int, people: dict[str, list[int]]) -> int:
    """N - (imported) more image rows, each a copy of an imported final one; returns the number of copies.
    Leaves the temporary table bench_work: one row per copy with its original, status, annotators and counts."""
    from annotation.models import Image, Role

    copies = images - Image.objects.filter(project=project).count()
    inspectors = people[Role.INSPECTOR]
    status = (
        "CASE "
        + " ".join(f"WHEN {_hash_percent('status', 'g')} < {upper} THEN '{name}'" for name, upper in STATUS_BUCKETS)
        + " END"
    )
    _execute(
        """
        CREATE TEMP TABLE bench_original AS
            SELECT i.id, i.sha256,
                   EXISTS (SELECT 1 FROM annotation_annotation a WHERE a.image_id = i.id) AS is_defective
            FROM annotation_image i WHERE i.project_id = %(project)s AND i.status = 'final';
        CREATE TEMP TABLE bench_pick AS
            SELECT is_defective, row_number() OVER (PARTITION BY is_defective ORDER BY id) - 1 AS n, id, sha256
            FROM bench_original;
        """,
        {"project": project.pk},
    )
    defective = _scalar("SELECT count(*) FROM bench_original WHERE is_defective")
    free = _scalar("SELECT count(*) FROM bench_original WHERE NOT is_defective")
    is_defective = f"{_hash_percent('free', 'g')} >= {DEFECT_FREE_SHARE_PERCENT}"
    # Ids are drawn from the table's own sequence here, so the work rows need no join back to find their image.
    _execute(
        f"""
        CREATE TEMP TABLE bench_work AS
        SELECT g, nextval(pg_get_serial_sequence('annotation_image', 'id')) AS image_id, p.id AS original_id,
               s.status, encode(sha256(convert_to(p.sha256 || ':copy' || g, 'UTF8')), 'hex') AS sha256,
               now() - interval '365 days' + (g::float / %(copies)s) * interval '365 days' AS created_at,
               s.status <> 'new' AND {_hash_percent("dual", "g")} < {DUAL_SHARE_PERCENT} AS is_dual,
               (%(inspectors)s::bigint[])[1 + s.first_index] AS annotator_id,
               (%(inspectors)s::bigint[])[1 + (s.first_index + 1 + g %% {INSPECTORS - 1}) %% {INSPECTORS}] AS second_id,
               1 + (hashtext('count' || g) & 65535) %% 6 AS annotation_count
        FROM generate_series(1, %(copies)s) g
        CROSS JOIN LATERAL (
            SELECT {status} AS status, (hashtext('who' || g) & 65535) %% {INSPECTORS} AS first_index,
                   {is_defective} AS is_defective,
                   CASE WHEN {is_defective} THEN g %% {defective} ELSE g %% {free} END AS n
        ) s
        JOIN bench_pick p ON p.is_defective = s.is_defective AND p.n = s.n
        ORDER BY g;
        CREATE INDEX ON bench_work (image_id);
        ANALYZE bench_work;
        """,  # noqa: S608
        {"copies": copies, "inspectors": inspectors},
    )
    _insert_select(
        Image,
        {
            "id": "w.image_id",
            "sha256": "w.sha256",
            "original_filename": "regexp_replace(o.original_filename, '(\\.[^.]*)?$', '-copy' || w.g || '\\1')",
            "status": "w.status",
            "is_defect_free": "o.is_defect_free AND w.status = 'final'",
            "created_at": "w.created_at",
        },
        "FROM bench_work w JOIN annotation_image o ON o.id = w.original_id ORDER BY w.g",
        with_id=True,
    )
    return copies


def annotations_create(project) -> int:
    """Copies of the originals' real annotations on every copy with work on it, and their audit entries."""
    from annotation.models import Annotation, AuditEntry

    _execute(
        """
        CREATE TEMP TABLE bench_template AS
        SELECT a.id, a.image_id, row_number() OVER (PARTITION BY a.image_id ORDER BY a.id) - 1 AS k,
               count(*) OVER (PARTITION BY a.image_id) AS of
        FROM annotation_annotation a JOIN bench_original o ON o.id = a.image_id;
        """
    )
    # One row per new annotation: its id (from the table's sequence), its image and the annotation it copies.
    _execute(
        """
        CREATE TEMP TABLE bench_annotation AS
        SELECT nextval(pg_get_serial_sequence('annotation_annotation', 'id')) AS id, w.image_id, t.id AS template_id,
               w.annotator_id, w.status, w.created_at
        FROM bench_work w
        JOIN generate_series(0, 5) j ON j < w.annotation_count
        JOIN bench_template t ON t.image_id = w.original_id AND t.k = j %% t.of
        WHERE w.status IN ('final', 'in_progress', 'submitted', 'in_review')
        ORDER BY w.image_id, j;
        """
    )
    made = _insert_select(
        Annotation,
        {
            "id": "b.id",
            "image_id": "b.image_id",
            "author_id": "b.annotator_id",
            "is_final": "b.status = 'final'",
            "outline": "CASE WHEN b.status = 'final' THEN o.outline END",  # stored with final annotations only
            "source": "'manual'",
            "created_at": "b.created_at + interval '1 hour'",
            "updated_at": "b.created_at + interval '1 hour'",
        },
        "FROM bench_annotation b JOIN annotation_annotation o ON o.id = b.template_id ORDER BY b.id",
        with_id=True,
    )
    # The audit entry's snapshot is the original annotation's own "create" snapshot, copied as it is stored (so
    # its image and author ids are the original's): building a new one per row would cost PostgreSQL 5 to 10 times
    # as long, and the entry's size, what the audit list reads and sends, is the same.
    _insert_select(
        AuditEntry,
        {
            "project_id": "%(project)s",
            "actor_id": "b.annotator_id",
            "object_id": "b.id",
            "created_at": "b.created_at + interval '1 hour'",
        },
        """
        FROM bench_annotation b
        JOIN annotation_auditentry o ON o.object_type = 'annotation' AND o.object_id = b.template_id
             AND o.action = 'create'
        ORDER BY b.id
        """,
        {"project": project.pk},
    )
    return made


def assignments_create(people: dict[str, list[int]]) -> None:
    from annotation.models import Assignment, Role

    senior = people[Role.SENIOR][0]
    status = (
        "CASE WHEN w.status IN ('final', 'submitted', 'in_review') THEN 'submitted' "
        "WHEN w.status = 'in_progress' AND w.g %% 10 = 0 THEN 'returned' ELSE w.status END"
    )
    for annotator, condition in (("w.annotator_id", "true"), ("w.second_id", "w.is_dual")):
        _insert_select(
            Assignment,
            {
                "image_id": "w.image_id",
                "annotator_id": annotator,
                "status": status,
                "assigned_by_id": str(senior),
                "created_at": "w.created_at",
                "submitted_at": "CASE WHEN w.status IN ('final', 'submitted', 'in_review') "
                "THEN w.created_at + interval '2 hours' END",
                "review_comment": "CASE WHEN w.status = 'in_progress' AND w.g %% 10 = 0 "
                "THEN 'Outline the whole crack.' ELSE '' END",
            },
            f"FROM bench_work w WHERE w.status <> 'new' AND {condition} ORDER BY w.image_id",
        )


def qa_history_create(project, people: dict[str, list[int]]) -> None:
    from annotation.models import Role
    from qa.models import Adjudication, Agreement, DefectMatch, EdgeCase, QaPolicy, SpotCheck, SpotCheckSample

    policy = QaPolicy.objects.create(project=project, version=1, seed=0)
    seniors = people[Role.SENIOR]
    _insert_select(
        Agreement,
        {
            "image_id": "w.image_id",
            "project_id": str(project.pk),
            "policy_id": str(policy.pk),
            "phase": "CASE WHEN row_number() OVER (ORDER BY w.image_id) <= 200 THEN 'calibration' ELSE 'ongoing' END",
            "first_annotator_id": "w.annotator_id",
            "second_annotator_id": "w.second_id",
            "is_agreed": "w.status <> 'in_review' AND w.g %% 10 <> 0",
            "is_image_judgement_agreed": "w.g %% 20 <> 0",
            "reasons": "CASE WHEN w.status = 'in_review' OR w.g %% 10 = 0 THEN '[\"iou_below_threshold\"]'::jsonb "
            "ELSE '[]'::jsonb END",
            "mean_iou": "0.6 + (w.g %% 40) / 100.0",
            "computed_at": "w.created_at + interval '1 day'",
        },
        "FROM bench_work w WHERE w.is_dual AND w.status IN ('final', 'in_review') ORDER BY w.image_id",
    )
    _insert_select(
        DefectMatch,
        {
            "agreement_id": "ag.id",
            "first_annotation_id": "NULL",
            "second_annotation_id": "NULL",
            "first_defect_class_id": "t.defect_class_id",
            "second_defect_class_id": "CASE WHEN j = 2 AND ag.id %% 7 = 0 THEN NULL ELSE t.defect_class_id END",
            "is_matched": "NOT (j = 2 AND ag.id %% 7 = 0)",
            "measure": "'mask'",
            "iou": "CASE WHEN j = 2 AND ag.id %% 7 = 0 THEN 0 ELSE 0.55 + ((ag.id * 7 + j) %% 45) / 100.0 END",
            "iou_threshold": "0.7",
            "severity_distance": "CASE WHEN j = 2 AND ag.id %% 7 = 0 THEN NULL ELSE (ag.id + j) %% 5 / 4 END",
            "reasons": "CASE WHEN (ag.id + j) %% 5 = 4 THEN '[\"severity_mismatch\"]'::jsonb ELSE '[]'::jsonb END",
            "is_agreed": "ag.is_agreed",
        },
        """
        FROM qa_agreement ag
        JOIN bench_work w ON w.image_id = ag.image_id
        JOIN LATERAL (SELECT a.defect_class_id FROM annotation_annotation a
                      JOIN bench_template bt ON bt.id = a.id AND bt.k = 0
                      WHERE a.image_id = w.original_id) t ON true
        CROSS JOIN generate_series(0, 2) j
        ORDER BY ag.id, j
        """,
    )
    _insert_select(
        Adjudication,
        {
            "agreement_id": "ag.id",
            "status": "'pending'",
            "decision": "''",
            "reason": "''",
            "adjudicator_id": "NULL",
            "final_sources": "'[]'::jsonb",
            "reviewer_edits": "'[]'::jsonb",
            "created_at": "ag.computed_at",
            "decided_at": "NULL",
        },
        "FROM qa_agreement ag JOIN bench_work w ON w.image_id = ag.image_id "
        "WHERE w.status = 'in_review' ORDER BY ag.id",
    )
    # Weekly spot-check samples. They hold no id lists here (a real one lists its population and draw).
    samples = SpotCheckSample.objects.bulk_create(
        [
            SpotCheckSample(
                project=project, policy=policy, seed=week, rate=0.1, population_image_ids=[], drawn_image_ids=[]
            )
            for week in range(53)
        ]
    )
    first_sample = samples[0].pk
    _insert_select(
        SpotCheck,
        {
            "sample_id": f"{first_sample} + (extract(epoch FROM now() - w.created_at)::bigint / 604800)::int %% 53",
            "image_id": "w.image_id",
            "annotator_id": "w.annotator_id",
            "status": "CASE WHEN w.status = 'in_review' THEN 'pending' "
            "WHEN w.g %% 20 = 0 THEN 'rejected' ELSE 'accepted' END",
            "reviewer_id": f"CASE WHEN w.status = 'in_review' THEN NULL ELSE {seniors[1]} END",
            "comment": "''",
            "reviewer_edits": "'[]'::jsonb",
            "created_at": "w.created_at + interval '1 day'",
            "decided_at": "CASE WHEN w.status = 'in_review' THEN NULL ELSE w.created_at + interval '2 days' END",
        },
        f"""
        FROM bench_work w
        WHERE NOT w.is_dual AND ((w.status = 'final' AND {_hash_percent("spot", "w.g")} < {SPOT_CHECK_SHARE_PERCENT})
                                 OR w.status = 'in_review')
        ORDER BY w.image_id
        """,
    )
    _insert_select(
        EdgeCase,
        {
            "project_id": str(project.pk),
            "image_id": "w.image_id",
            "flagged_by_id": "w.annotator_id",
            "note": "'Stain or blowhole?'",
            "status": "CASE WHEN w.g %% 5 = 0 THEN 'open' ELSE 'decided' END",
            "decision": "CASE WHEN w.g %% 5 = 0 THEN '' ELSE 'A stain: not a defect.' END",
            "decided_by_id": f"CASE WHEN w.g %% 5 = 0 THEN NULL ELSE {seniors[0]} END",
            "precedent_defect_class_id": "NULL",
            "created_at": "w.created_at",
            "decided_at": "CASE WHEN w.g %% 5 = 0 THEN NULL ELSE w.created_at + interval '1 day' END",
        },
        "FROM bench_work w WHERE w.g %% 1000 = 0 ORDER BY w.image_id",
    )


def project_build(*, images: int) -> tuple[object, dict[str, list[int]]]:
    """The project of `images` images (see the module docstring); returns it and its people by role."""
    from django.db import connection, transaction

    from bench._setup import SHARED_DATA
    from datasets.demo import demo_project_seed
    from datasets.services.imports import images_import
    from datasets.sources import folder_entries, plan_sources

    project, _ = demo_project_seed()
    sources, _ = plan_sources(folder_entries(SHARED_DATA), with_masks=True)
    images_import(project=project, sources=sources)
    with transaction.atomic():
        people = users_create(project)
        steps = (
            ("images", lambda: images_create(project, images=images, people=people)),
            ("annotations", lambda: annotations_create(project)),
            ("assignments", lambda: assignments_create(people)),
            ("qa history", lambda: qa_history_create(project, people)),
        )
        for name, step in steps:
            started = time.perf_counter()
            step()
            print(f"set-up: {name} {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    connection.close()  # the temporary tables go with the session
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"set-up: vacuum {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return project, people


# Measurements ------------------------------------------------------------------------------------------------


REQUEST_CPU_MS: dict[str, float] = {}  # path -> median CPU ms per request (this process + its backend)


def p95_ms(client, path: str, *, expected_status: int = 200) -> float:
    """95th percentile of REQUESTS_PER_MEASURE requests, in ms, after WARM_UP_REQUESTS unmeasured ones. Their
    median CPU time (this process, which runs the view, plus its PostgreSQL backend) goes to REQUEST_CPU_MS."""
    from django.db import connection

    timings, cpu_ms = [], []
    for number in range(WARM_UP_REQUESTS + REQUESTS_PER_MEASURE):
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        cpu_started, backend_started = time.process_time(), _cpu_seconds(backend) or 0.0
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expected_status:
            raise SystemExit(f"GET {path}: {response.status_code} {response.content[:300]!r}")
        if number >= WARM_UP_REQUESTS:
            timings.append(elapsed)
            backend_cpu = (_cpu_seconds(backend) or backend_started) - backend_started
            cpu_ms.append((time.process_time() - cpu_started + backend_cpu) * 1000)
    REQUEST_CPU_MS[path] = statistics.median(cpu_ms)
    return statistics.quantiles(timings, n=20, method="inclusive")[18]


def _client_for(user_id: int):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    return client


def _cursor_at(image_id: int) -> str:
    """A keyset cursor of IdCursorPagination that continues after `image_id` (DRF's encoding)."""
    import base64
    from urllib.parse import urlencode

    return base64.b64encode(urlencode({"p": str(image_id)}).encode("ascii")).decode("ascii")


def requests_measure(project, people: dict[str, list[int]], *, images: int) -> dict:
    from annotation.models import Assignment, AssignmentStatus, Role
    from annotation.queue_selectors import QUEUE_OPEN_STATUSES

    senior = _client_for(people[Role.SENIOR][0])
    admin = _client_for(people[Role.ADMIN][0])
    inspector_id = people[Role.INSPECTOR][0]
    inspector = _client_for(inspector_id)
    deep_id = _scalar(
        "SELECT id FROM annotation_image WHERE project_id = %(project)s ORDER BY id OFFSET %(offset)s LIMIT 1",
        {"project": project.pk, "offset": int(images * DEEP_LIST_FRACTION)},
    )
    open_work = list(
        Assignment.objects.filter(annotator_id=inspector_id, status__in=QUEUE_OPEN_STATUSES)
        .order_by("id")
        .values_list("image_id", flat=True)
    )
    after = open_work[len(open_work) // 2]
    from urllib.parse import quote

    paths = {
        "list": (senior, f"/api/v1/projects/{project.pk}/images/"),
        "deep_list": (senior, f"/api/v1/projects/{project.pk}/images/?cursor={quote(_cursor_at(deep_id))}"),
        "project_page": (senior, f"/projects/{project.pk}/"),
        "queue_next": (inspector, f"/api/v1/queue/next/?after={after}"),
        "audit": (admin, f"/api/v1/projects/{project.pk}/audit/"),
    }
    figures = {}
    for name, (client, path) in paths.items():
        figures[f"{name}_p95_ms"] = p95_ms(client, path)
        figures[f"{name}_cpu_ms"] = REQUEST_CPU_MS[path]
    figures |= {
        "open_queue_images": len(open_work),
        "returned_in_queue": Assignment.objects.filter(
            annotator_id=inspector_id, status=AssignmentStatus.RETURNED
        ).count(),
    }
    from qa.services.statistics import qa_statistics_refresh

    started = time.perf_counter()
    qa_statistics_refresh(project=project)  # what qa_statistics_refresh_task runs every few minutes
    figures["qa_statistics_refresh_s"] = time.perf_counter() - started
    figures["qa_statistics_ms"] = p95_ms(senior, f"/projects/{project.pk}/qa/")
    figures["qa_statistics_cpu_ms"] = REQUEST_CPU_MS[f"/projects/{project.pk}/qa/"]
    return figures


def child_run(task: str, arguments: dict) -> dict:
    """Run `task` in a fresh Python process on this database; its figures, with its peak memory."""
    environment = dict(os.environ)
    command = [sys.executable, __file__, "--child", task, json.dumps(arguments)]
    if os.environ.get("DEFECTLAB_BENCH_PROFILE"):  # cProfile of the child, written to this folder
        profile = Path(os.environ["DEFECTLAB_BENCH_PROFILE"]) / f"{task}.prof"
        command[1:1] = ["-m", "cProfile", "-o", str(profile)]
    with BackendCpu() as backends:
        process = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if process.returncode:
        raise SystemExit(f"child {task} failed ({process.returncode}):\n{process.stderr[-3000:]}")
    result = json.loads(process.stdout.strip().splitlines()[-1])
    return {**result, "backend_cpu_s": backends.seconds}


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, so it is this program's own)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process, from /proc (None once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU time of this database's PostgreSQL backends (other than `own_pid`'s) while something runs: a thread
    lists them every POLL_SECONDS and keeps each one's last reading, so a backend that exits between two polls
    loses at most that interval's CPU. Backends of other databases (other engineers' tests) are not counted."""

    POLL_SECONDS = 0.2

    def __init__(self) -> None:
        import threading

        import psycopg
        from django.db import connection

        self._url = os.environ["DATABASE_URL"]
        self._database = connection.settings_dict["NAME"]
        self._psycopg, self._stop = psycopg, threading.Event()
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with self._psycopg.connect(self._url, autocommit=True) as watcher:
            own = watcher.execute("SELECT pg_backend_pid()").fetchone()[0]
            while True:
                pids = [
                    row[0]
                    for row in watcher.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s", [self._database, own]
                    )
                ]
                for pid in pids:
                    seconds = _cpu_seconds(pid)
                    if seconds is not None:
                        self._first.setdefault(pid, seconds)
                        self._last[pid] = seconds
                if self._stop.wait(self.POLL_SECONDS):
                    return

    def __enter__(self) -> "BackendCpu":
        self._thread.start()
        time.sleep(self.POLL_SECONDS)  # a first reading of the backends already there
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        """CPU the backends spent while watched (a backend first seen mid-run counts from its start)."""
        return sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)


def child(task: str, arguments: dict) -> None:
    import django

    django.setup()
    from annotation.models import Project

    project = Project.objects.get(pk=arguments["project_id"])
    started, cpu_started = time.perf_counter(), time.process_time()
    if task == "freeze":
        from datasets.services.versions import dataset_version_freeze_start

        job = dataset_version_freeze_start(project=project, name="bench", created_by=None, run_here=True)
        seconds = time.perf_counter() - started
        if job.status != "succeeded":
            raise SystemExit(f"the freeze job {job.status}: {job.error}")
        from datasets.models import DatasetVersion

        version = DatasetVersion.objects.get(job=job)
        result = {
            "version_id": version.pk,
            "manifest_bytes": version.manifest_size_bytes,
            "images": version.counts["images"]["total"],
            "annotations": version.counts["annotations"]["total"],
        }
    else:
        from datasets.models import DatasetVersion
        from datasets.services.exports import dataset_export_build

        version = DatasetVersion.objects.select_related("project").get(pk=arguments["version_id"])
        export = dataset_export_build(version=version, export_format=task, with_images=False)
        seconds = time.perf_counter() - started
        result = {"size_bytes": export.size_bytes}
    cpu = time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": _peak_rss_mb(), **result}))


def project_found() -> tuple[object, dict[str, list[int]]]:
    """The project of a kept database (--reuse) and its people by role, as project_build returned them."""
    from annotation.models import Membership, Project

    project = Project.objects.get()  # a kept database holds the one project it was built with
    people: dict[str, list[int]] = {}
    members = Membership.objects.filter(project=project, user__username__startswith="bench-")  # not the demo's
    for role, user_id in members.order_by("user_id").values_list("role", "user_id"):
        people.setdefault(role, []).append(user_id)
    return project, people


def versions_forget(project) -> None:
    """A kept database's versions and exports of earlier runs, rows and files: the freeze measured next is a
    first one again (a later freeze reads its predecessor's manifest to diff), and the disk does not fill up."""
    from datasets import storage
    from datasets.models import DatasetExport, DatasetVersion
    from defectlab.jobs.models import Job

    exports = DatasetExport.objects.filter(version__project=project)
    keys = [key for key in exports.values_list("file_key", flat=True) if key]
    job_ids = list(exports.values_list("job_id", flat=True))
    exports.delete()
    Job.objects.filter(pk__in=job_ids).delete()
    versions = DatasetVersion.objects.filter(project=project)
    keys += list(versions.values_list("manifest_key", flat=True))
    versions.delete()
    storage.delete_keys(keys)


MEASURES = ("requests", "freeze", "coco", "yolo")


def one_size(
    images: int, *, with_yolo: bool, keep: str | None = None, reuse: str | None = None, measures=MEASURES
) -> dict:
    """Build the project of `images` images on a fresh database (or open a kept one) and measure it (see the
    module docstring). `measures`: which of MEASURES to take (COCO and YOLO need the freeze)."""
    os.environ["DEFECTLAB_ALLOWED_HOSTS"] = "testserver,localhost"
    from bench._setup import django_for_benchmark

    django_for_benchmark(database="postgres", keep=keep, reuse=reuse)
    from django.db import connection

    from annotation.models import Annotation, Image

    started = time.perf_counter()
    if reuse:
        project, people = project_found()
        versions_forget(project)
    else:
        project, people = project_build(images=images)
    setup_seconds = time.perf_counter() - started
    image_count = Image.objects.filter(project=project).count()
    annotation_count = Annotation.objects.filter(image__project=project).count()
    database_bytes = _scalar("SELECT pg_database_size(current_database())")
    figures: dict = {"images": image_count, "annotations": annotation_count}
    if "requests" in measures:
        figures.update(requests_measure(project, people, images=image_count))
    connection.close()
    nothing = {"seconds": None, "cpu_s": None, "backend_cpu_s": None, "peak_rss_mb": None, "size_bytes": None}
    frozen = coco = yolo = nothing
    if {"freeze", "coco", "yolo"} & set(measures):
        frozen = child_run("freeze", {"project_id": project.pk})
        if "coco" in measures:
            coco = child_run("coco", {"project_id": project.pk, "version_id": frozen["version_id"]})
        if with_yolo and "yolo" in measures:
            yolo = child_run("yolo", {"project_id": project.pk, "version_id": frozen["version_id"]})
    figures.update(
        {
            "freeze_s": frozen["seconds"],
            "freeze_cpu_s": frozen["cpu_s"],
            "freeze_backend_cpu_s": frozen["backend_cpu_s"],
            "freeze_peak_rss_mb": frozen["peak_rss_mb"],
            "version_images": frozen.get("images"),
            "version_annotations": frozen.get("annotations"),
            "manifest_mb": frozen["manifest_bytes"] / 1e6 if frozen.get("manifest_bytes") else None,
            "coco_export_s": coco["seconds"],
            "coco_cpu_s": coco["cpu_s"],
            "coco_backend_cpu_s": coco["backend_cpu_s"],
            "coco_peak_rss_mb": coco["peak_rss_mb"],
            "coco_mb": coco["size_bytes"] / 1e6 if coco["size_bytes"] is not None else None,
            "yolo_export_s": yolo["seconds"],
            "yolo_cpu_s": yolo["cpu_s"],
            "yolo_peak_rss_mb": yolo["peak_rss_mb"],
            "yolo_mb": yolo["size_bytes"] / 1e6 if yolo["size_bytes"] is not None else None,
            "db_bytes_per_image": database_bytes / image_count,
            "setup_s": setup_seconds,
            "load_average": os.getloadavg()[0],
        }
    )
    return {name: round(value, 2) if isinstance(value, float) else value for name, value in figures.items()}


GROWTH_METRICS = (
    "qa_statistics_refresh_s",
    "list_p95_ms",
    "deep_list_p95_ms",
    "project_page_p95_ms",
    "queue_next_p95_ms",
    "qa_statistics_ms",
    "audit_p95_ms",
    "freeze_s",
    "freeze_peak_rss_mb",
    "coco_export_s",
    "coco_peak_rss_mb",
    "yolo_export_s",
    "db_bytes_per_image",
)
LAST_LINE = (
    "images",
    "annotations",
    "list_p95_ms",
    "deep_list_p95_ms",
    "project_page_p95_ms",
    "queue_next_p95_ms",
    "qa_statistics_ms",
    "freeze_s",
    "freeze_peak_rss_mb",
    "coco_export_s",
    "coco_peak_rss_mb",
    "db_bytes_per_image",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, action="append", help="repeat for several sizes (default 10,000)")
    parser.add_argument(
        "--yolo-max-images",
        type=int,
        default=100_000,
        help="export YOLO only up to this size (its 1,000,000 run alone would take most of the 30 minutes here)",
    )
    parser.add_argument(
        "--keep", metavar="NAME", help="keep the built database (one --images) as NAME for --reuse; drop: --drop"
    )
    parser.add_argument("--reuse", metavar="NAME", help="measure the database kept as NAME instead of building one")
    parser.add_argument("--drop", metavar="NAME", help="drop the database kept as NAME and its files, then exit")
    parser.add_argument(
        "--measure", action="append", choices=MEASURES, help="repeat to take only these measures (default: all)"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child[0], json.loads(arguments.child[1]))
        return
    if arguments.drop:
        from bench._setup import kept_drop

        kept_drop(arguments.drop)
        return
    sizes = arguments.images or [10_000]
    if (arguments.keep or arguments.reuse) and len(sizes) > 1:
        raise SystemExit("--keep and --reuse take one --images")
    if arguments.one:
        figures = one_size(
            sizes[0],
            with_yolo=sizes[0] <= arguments.yolo_max_images,
            keep=arguments.keep,
            reuse=arguments.reuse,
            measures=tuple(arguments.measure or MEASURES),
        )
        print(json.dumps(figures))
        return
    results = []
    for images in sizes:
        started = time.perf_counter()
        process = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                "--images",
                str(images),
                "--yolo-max-images",
                str(arguments.yolo_max_images),
                *(["--keep", arguments.keep] if arguments.keep else []),
                *(["--reuse", arguments.reuse] if arguments.reuse else []),
                *[option for measure in arguments.measure or () for option in ("--measure", measure)],
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if process.returncode:
            raise SystemExit(f"N={images} failed ({process.returncode})")
        results.append(json.loads(process.stdout.strip().splitlines()[-1]))
        results[-1]["run_s"] = round(time.perf_counter() - started, 1)
        print(json.dumps(results[-1]), flush=True)
    smallest, largest = results[0], results[-1]

    def ratio(metric: str, bottom: dict) -> float | None:
        if bottom.get(metric) in (None, 0) or largest.get(metric) is None:
            return None
        return round(largest[metric] / bottom[metric], 2)

    growth = {metric: ratio(metric, smallest) for metric in GROWTH_METRICS}
    partial = {}  # metrics not measured at the largest size (YOLO): from the smallest to the largest that has them
    for metric in GROWTH_METRICS:
        measured = [result for result in results if result.get(metric) is not None]
        if growth[metric] is None and len(measured) > 1:
            top = measured[-1]
            partial[metric] = {
                "from_images": smallest["images"],
                "to_images": top["images"],
                "ratio": round(top[metric] / smallest[metric], 2),
            }
    print(
        json.dumps(
            {
                "growth_from_images": smallest["images"],
                "growth_to_images": largest["images"],
                "images_ratio": round(largest["images"] / smallest["images"], 1),
                "growth": growth,
                "growth_partial": partial,
            }
        )
    )
    print(json.dumps({**{name: largest.get(name) for name in LAST_LINE}, "growth": growth}))


if __name__ == "__main__":
    main()
