"""The geometry budget under attack: the worst annotation save and the worst editor load the limits allow, on a
14,000 x 14,000 image (196 MP, under DEFECTLAB_MAX_IMAGE_PIXELS), with the server's own time measured.

Set-up (not timed), on a throw-away PostgreSQL database:
- the image is a real small PNG ingested for real, whose row then says 14,000 x 14,000: nothing timed reads its
  pixels (a save rasterises the geometry, the editor's load sends URLs), so decoding 196 MP would only slow the
  set-up;
- the image is filled to both per-image limits (DEFECTLAB_IMAGE_MAX_ANNOTATIONS annotations holding
  DEFECTLAB_IMAGE_MAX_VERTICES vertices together): one annotation left small for the save below, the others
  50-vertex blobs over the whole image with coordinates at full float precision (the longest JSON a vertex can
  take); they are recorded with `annotations_import`, which applies the same budget.

Timed, in this process through Django's test client (request to response: middleware, session auth, the view,
every SQL statement, JSON parsing and rendering; no network; the garbage collector set as defectlab/wsgi.py
sets it for gunicorn's workers):
- worst save: `PUT /api/v1/annotations/{id}/` of `worst_accepted` (annotation/tests/geometry_cases.py): one
  annotation at every per-annotation limit at once (1,000 polygons, a polygon with 1,000 holes, 10,000 vertices
  at full float precision, 16 MP of polygon boxes, a 250,000 px outline and so the longest RLE, a star crossing
  one row 500 times). Each save grows the annotation from small to that (its stored vertex count is reset between
  runs, not timed), so the image's budget is checked too, against the 1,999 other annotations. Median of --runs;
- worst editor load: `GET /api/v1/images/{id}/editor/` by a senior (who sees every annotation), median of --runs,
  with the response's size;
- the issue's attack, for the record: the 33,333-triangle save (3 MB body), refused with 413 before it is read.

Each request's time is wall-clock; the CPU it cost the server (this process, which runs the view, plus the
PostgreSQL backend serving it, read from /proc) is printed beside it: on a machine shared with other work the
wall-clock time includes waiting for a core, the CPU time does not.

    python bench/geometry_abuse.py [--runs 5]

Last line: {"worst_save_ms": .., "worst_editor_get_ms": .., "worst_editor_get_bytes": ..}
"""

import argparse
import io
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_for_benchmark  # noqa: E402
from defectlab.serving import collector_tune_for_serving  # noqa: E402

IMAGE_SIDE_PX = 14_000
BLOB_VERTICES = 50  # vertices of each annotation that fills the image


def blob_rings(count: int, vertices: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """`count` irregular blobs over the whole image, at full float precision (17 significant digits)."""
    rings = []
    for index in range(count):
        centre = rng.uniform(200, IMAGE_SIDE_PX - 200, size=2)
        angles = np.sort(rng.uniform(0, 2 * math.pi, vertices[index]))
        radii = rng.uniform(20, 120, vertices[index])
        rings.append(centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1) + 1 / 3)
    return rings


def set_up():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from PIL import Image as PILImage

    from annotation import geometry
    from annotation.models import DefectClass, Image, Membership, Project, Role
    from annotation.services.annotations import ImportedDefect, annotations_import
    from datasets.services.imports import images_import
    from datasets.sources import Source

    project = Project.objects.create(slug="abuse", name="Geometry abuse")
    defect_class = DefectClass.objects.create(project=project, name="stain")
    senior = get_user_model().objects.create_user(username="senior", password=None)
    Membership.objects.create(project=project, user=senior, role=Role.SENIOR)
    buffer = io.BytesIO()
    PILImage.fromarray(np.full((64, 64), 128, dtype=np.uint8), mode="L").save(buffer, format="PNG")
    images_import(project=project, sources=[Source(filename="line-scan.png", read=lambda: buffer.getvalue())])
    image = project.images.get()
    Image.objects.filter(pk=image.pk).update(width=IMAGE_SIDE_PX, height=IMAGE_SIDE_PX, pyramid=None)
    image.refresh_from_db()

    # The annotation the save replaces, and the others up to both per-image limits, its 20,000 vertices spared.
    target = annotations_import(
        image=image,
        defects=[ImportedDefect(defect_class, [geometry.Polygon(exterior=np.array([[10.0, 10], [20, 10], [15, 20]]))])],
        author=senior,
        source="manual",
        is_final=False,
    )[0]
    others = settings.DEFECTLAB_IMAGE_MAX_ANNOTATIONS - 1
    spare = settings.DEFECTLAB_IMAGE_MAX_VERTICES - settings.DEFECTLAB_GEOMETRY_MAX_VERTICES - target.vertex_count
    vertices = [spare // others + (1 if index < spare % others else 0) for index in range(others)]
    rings = blob_rings(others, vertices, np.random.default_rng(5))
    for start in range(0, others, 500):
        annotations_import(
            image=image,
            defects=[
                ImportedDefect(defect_class, [geometry.Polygon(exterior=ring)]) for ring in rings[start : start + 500]
            ],
            author=senior,
            source="manual",
            is_final=False,
        )
    return image, target, senior


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(call, backend_pid: int) -> tuple[float, tuple[float, float], object]:
    """(wall ms, (CPU ms of this process, of its PostgreSQL backend), the response)."""
    cpu_before, backend_before = time.process_time(), _cpu_seconds(backend_pid)
    started = time.perf_counter()
    response = call()
    wall_ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.process_time() - cpu_before) * 1000, (_cpu_seconds(backend_pid) - backend_before) * 1000
    return wall_ms, cpu_ms, response


def _cpu_text(values: list[tuple[float, float]]) -> str:
    return str([f"{python:.0f}+{database:.0f}" for python, database in values])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    os.environ["DEFECTLAB_ALLOWED_HOSTS"] = "testserver"  # Django's test client
    vendor = django_for_benchmark(database="postgres")
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Sum
    from django.test import Client

    from annotation.models import Annotation
    from annotation.services.geometry_budget import geometry_budget
    from annotation.tests.geometry_cases import cost, holed_triangles, worst_accepted

    image, target, senior = set_up()
    client = Client()
    client.force_login(senior)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    worst = worst_accepted(geometry_budget(), width=IMAGE_SIDE_PX, height=IMAGE_SIDE_PX)
    totals = Annotation.objects.filter(image=image).aggregate(annotations=Count("pk"), vertices=Sum("vertex_count"))
    print(
        f"database={vendor} image={IMAGE_SIDE_PX}x{IMAGE_SIDE_PX} annotations={totals['annotations']} "
        f"vertices={totals['vertices']} (before the save)"
    )
    print(f"worst save geometry: {cost(worst, width=IMAGE_SIDE_PX, height=IMAGE_SIDE_PX)}")

    # The collector as a server process has it (defectlab/wsgi.py): what is loaded so far (here the set-up's
    # objects too) frozen, young-generation passes every 50,000 new objects instead of 700.
    collector_tune_for_serving()
    save_ms, save_cpu_ms, revision = [], [], target.revision
    for run in range(arguments.runs + 1):  # the first is a warm-up (imports, cached SQL)
        Annotation.objects.filter(pk=target.pk).update(vertex_count=3)  # so each save grows: the image is checked
        shifted = {  # a new outline each run: one pixel to the right and back
            "polygons": [
                {**polygon, "exterior": [[x + run % 2, y] for x, y in polygon["exterior"]]}
                for polygon in worst["polygons"]
            ]
        }
        body = json.dumps({"expected_revision": revision, "geometry": shifted})
        elapsed, cpu, response = timed(
            lambda body=body: client.put(f"/api/v1/annotations/{target.pk}/", body, content_type="application/json"),
            backend_pid,
        )
        if response.status_code != 200:
            raise SystemExit(f"worst save refused: {response.status_code} {response.content[:300]!r}")
        revision = response.json()["revision"]
        if run:
            save_ms.append(elapsed)
            save_cpu_ms.append(cpu)
    print(
        f"worst save: wall ms {[round(value, 1) for value in save_ms]}, server CPU ms (Django+PostgreSQL) "
        f"{_cpu_text(save_cpu_ms)}, body {len(body):,} bytes"
    )

    get_ms, get_cpu_ms, size = [], [], 0
    for run in range(arguments.runs + 1):
        elapsed, cpu, response = timed(lambda: client.get(f"/api/v1/images/{image.pk}/editor/"), backend_pid)
        if response.status_code != 200:
            raise SystemExit(f"editor load failed: {response.status_code}")
        size = len(response.content)
        if run:
            get_ms.append(elapsed)
            get_cpu_ms.append(cpu)
    annotations = len(json.loads(response.content)["annotations"])
    print(
        f"worst editor load: wall ms {[round(value, 1) for value in get_ms]}, server CPU ms (Django+PostgreSQL) "
        f"{_cpu_text(get_cpu_ms)}, {size:,} bytes, {annotations} annotations"
    )
    save_cpu, get_cpu = (statistics.median(sum(pair) for pair in values) for values in (save_cpu_ms, get_cpu_ms))
    print(
        f"medians: save {statistics.median(save_ms):.1f} ms wall / {save_cpu:.1f} ms server CPU; editor load "
        f"{statistics.median(get_ms):.1f} ms wall / {get_cpu:.1f} ms server CPU (load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: wall-clock includes waiting for a core)"
    )

    attack = json.dumps({"expected_revision": revision, "geometry": holed_triangles(33_333, width=3000, height=2500)})
    elapsed, _, response = timed(
        lambda: client.put(f"/api/v1/annotations/{target.pk}/", attack, content_type="application/json"), backend_pid
    )
    print(
        f"the issue's save ({len(attack):,} bytes, 33,333 holed triangles): {response.status_code} "
        f"{response.json()['code']} in {elapsed:.1f} ms (limit {settings.DEFECTLAB_GEOMETRY_MAX_BODY_BYTES:,} bytes)"
    )
    print(
        json.dumps(
            {
                "worst_save_ms": round(statistics.median(save_ms), 1),
                "worst_editor_get_ms": round(statistics.median(get_ms), 1),
                "worst_editor_get_bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
