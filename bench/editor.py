"""Editor speed in Debian's Chromium (headless, software rendering) against a production-style server started
here (gunicorn, PostgreSQL, loopback only, its own throw-away database and media):

1. first paint: opening a 16,384 x 4,096 line-scan image ingested through the real path (it gets a tile
   pyramid), from navigation start to the first image pixels on the canvas (performance mark), cold HTTP cache;
2. pan frame time: 1,000 polygons of 50 vertices on that image, panned with Space+drag by real mouse events;
   per frame, the editor's render including a forced rasterisation of both canvases (pixel read-back);
3. save round trip: a selected defect nudged with the arrow key 40 times, each saved by the autosave; the editor
   times each PUT from request to parsed answer (the same PUT sent from outside the browser is printed too).

    python bench/editor.py            (needs the bundle: cd frontend && npm install && npm run build)

Last line: {"first_paint_s": .., "pan_frame_ms_median": .., "save_p95_ms": ..}
"""

import io
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import REPO, django_for_benchmark, static_collect  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BENCH_PASSWORD = "bench-only-" + os.urandom(6).hex()  # a throw-away user in a throw-away database
IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX = 16_384, 4_096
POLYGONS, VERTICES = 1_000, 50
FIRST_PAINT_RUNS = 3
# Where the first paint's time went: the page, its scripts and the requests that ended before the paint.
FIRST_PAINT_BREAKDOWN = """(() => {
  const paint = performance.getEntriesByName('defectlab:first-paint')[0].startTime;
  const navigation = performance.getEntriesByType('navigation')[0];
  const requests = performance.getEntriesByType('resource').filter((entry) => entry.startTime < paint).map(
    (entry) => `${new URL(entry.name).pathname.slice(-40)} ` +
      `${Math.round(entry.startTime)}-${Math.round(entry.responseEnd)}`);
  const marks = Object.fromEntries(performance.getEntriesByType('mark')
    .filter((mark) => mark.name.startsWith('defectlab:'))
    .map((mark) => [mark.name.slice(10), Math.round(mark.startTime)]));
  return {html: Math.round(navigation.responseEnd), domContentLoaded: Math.round(navigation.domContentLoadedEventEnd),
          paint: Math.round(paint), marks, requests};
})()"""
SAVES = 40
SERVER_START_TIMEOUT_SECONDS = 60
PAN_STEPS = 150
PAN_STEP_PX = 8


RAF_INTERVALS_RECORD = """window.__intervals = [];
(function tick(last) {
    requestAnimationFrame((now) => {
        window.__intervals.push(now - last);
        if (window.__intervals.length < 2000) tick(now);
    });
})(performance.now());"""


def line_scan_jpeg() -> bytes:
    """A synthetic 16-bit-free line scan: gradient, stripes and grain, as an 8-bit JPEG (the camera's format)."""
    from PIL import Image as PILImage

    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, IMAGE_WIDTH_PX, dtype=np.float32)
    y = np.linspace(0, 1, IMAGE_HEIGHT_PX, dtype=np.float32)[:, None]
    picture = 90 + 60 * x[None, :] + 25 * np.sin(y * 60) + rng.normal(0, 12, (IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX))
    buffer = io.BytesIO()
    PILImage.fromarray(np.clip(picture, 0, 255).astype(np.uint8), mode="L").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def blob_polygons(count: int) -> list[list[list[float]]]:
    rng = np.random.default_rng(11)
    rings = []
    for _ in range(count):
        cx, cy = rng.uniform(100, IMAGE_WIDTH_PX - 100), rng.uniform(100, IMAGE_HEIGHT_PX - 100)
        radius = rng.uniform(20, 80)
        angles = np.linspace(0, 2 * math.pi, VERTICES, endpoint=False)
        radii = radius * rng.uniform(0.7, 1.0, VERTICES)
        ring = np.round(np.stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii], axis=1))
        rings.append(ring.tolist())
    return rings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(port: int) -> subprocess.Popen:
    environment = {**os.environ, "DEFECTLAB_ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "defectlab.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=environment,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def main() -> None:
    if not (REPO / "frontend/static/frontend/build/editor.js").exists():
        raise SystemExit("build the editor first: (cd frontend && npm install && npm run build)")
    vendor = django_for_benchmark(database="postgres")
    static_collect()
    from django.contrib.auth import get_user_model

    from annotation import geometry
    from annotation.models import DefectClass, Membership, Project, Role
    from annotation.services.annotations import ImportedDefect, annotations_import
    from datasets.services.imports import images_import
    from datasets.sources import Source

    user = get_user_model().objects.create_user(username="bench", password=BENCH_PASSWORD)
    project = Project.objects.create(name="Line scan", slug="line-scan")
    Membership.objects.create(project=project, user=user, role=Role.SENIOR)
    defect_class = DefectClass.objects.create(project=project, name="pore", color="#e6194b")
    started = time.perf_counter()
    data = line_scan_jpeg()
    images_import(project=project, sources=[Source(filename="line-scan.jpg", read=lambda: data)])
    image = project.images.get()
    print(
        f"database={vendor} ingested {image.width}x{image.height} in {time.perf_counter() - started:.1f}s, "
        f"pyramid levels={len(image.pyramid['levels']) if image.pyramid else 0}"
    )

    # Playwright's sync API runs an event loop in this thread; the ORM calls between page steps stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    port = free_port()
    server = server_start(port)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )

            def logged_in():
                # bypass_csp: the string predicates of wait_for_function run through eval, which the policy forbids.
                context = browser.new_context(viewport={"width": 1600, "height": 1000}, bypass_csp=True)
                page = context.new_page()
                page.goto(f"{base}/login/")
                page.fill("input[name=username]", "bench")
                page.fill("input[name=password]", BENCH_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                return context, page

            first_paints = []
            for _ in range(FIRST_PAINT_RUNS):
                context, page = logged_in()  # a new context: cold HTTP cache, no tiles kept
                page.goto(f"{base}/images/{image.pk}/edit/")
                page.wait_for_function("performance.getEntriesByName('defectlab:first-paint').length > 0")
                first_paints.append(page.evaluate("performance.getEntriesByName('defectlab:first-paint')[0].startTime"))
                print(f"first paint breakdown (ms): {page.evaluate(FIRST_PAINT_BREAKDOWN)}")
                context.close()
            first_paint_s = statistics.median(first_paints) / 1000
            print(f"first paint (s): {[round(value / 1000, 3) for value in first_paints]}")

            annotations_import(
                image=image,
                defects=[
                    ImportedDefect(defect_class=defect_class, polygons=[geometry.Polygon(exterior=np.array(ring))])
                    for ring in blob_polygons(POLYGONS)
                ],
                author=user,
                source="manual",
                is_final=False,
            )
            context, page = logged_in()
            page.goto(f"{base}/images/{image.pk}/edit/")
            page.wait_for_function("window.defectlab.editor && window.defectlab.editor.image.firstPaintAt !== null")
            count = page.evaluate("window.defectlab.editor.store.snapshot.defects.size")
            page.evaluate("window.defectlab.editor.zoomBy(3)")  # about a third of the width: ~350 polygons in view
            page.wait_for_timeout(1500)  # tiles of this level arrive
            box = page.locator("#overlay-layer").bounding_box()
            x, y = box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5
            page.evaluate("window.defectlab.frameProbe.isRasterForced = true; window.defectlab.frameTimings.length = 0")
            page.evaluate(RAF_INTERVALS_RECORD)
            page.mouse.move(x, y)
            page.keyboard.down("Space")
            page.mouse.down()
            for step in range(PAN_STEPS):
                page.mouse.move(x - (step + 1) * PAN_STEP_PX, y + (8 if step % 40 < 20 else -8))
            page.mouse.up()
            page.keyboard.up("Space")
            frames = page.evaluate("window.defectlab.frameTimings.slice()")
            intervals = page.evaluate("window.__intervals.slice(5)")
            page.evaluate("window.defectlab.frameProbe.isRasterForced = false")
            pan_median = statistics.median(frames)
            print(
                f"pan: {count} defects, {len(frames)} frames, frame ms median {pan_median:.2f} "
                f"p95 {percentile(frames, 0.95):.2f}; rAF interval ms median {statistics.median(intervals):.1f}"
            )

            page.evaluate("window.defectlab.editor.fit()")
            first_key = page.evaluate("[...window.defectlab.editor.store.snapshot.defects.keys()][0]")
            page.evaluate(f"window.defectlab.editor.store.select(['{first_key}'])")
            page.evaluate("window.defectlab.saveTimings.length = 0; window.defectlab.saveNetworkTimings.length = 0")
            for index in range(SAVES):
                # As an inspector works: an edit, then the autosave after its quiet period.
                page.keyboard.press("ArrowRight" if index % 2 == 0 else "ArrowLeft")
                page.wait_for_function(f"window.defectlab.saveTimings.length >= {index + 1}")
                page.wait_for_selector("#save-status[data-state=saved]")
            saves = page.evaluate("window.defectlab.saveTimings.slice()")
            network = page.evaluate("window.defectlab.saveNetworkTimings.slice()")
            save_p95 = percentile(saves, 0.95)
            print("save round trips (ms):", [round(value) for value in saves])
            # The same PUT from outside the page (Playwright's request client, same session): the server's share.
            annotation_id, revision = page.evaluate(
                f"(b => [b.id, b.revision])(window.defectlab.editor.sync.basis.get('{first_key}'))"
            )
            token = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "csrftoken")
            body = page.evaluate(f"window.defectlab.editor.store.snapshot.defects.get('{first_key}').geometry")
            direct = []
            for _ in range(SAVES):
                started = time.perf_counter()
                response = context.request.put(
                    f"{base}/api/v1/annotations/{annotation_id}/",
                    data=json.dumps({"expected_revision": revision, "geometry": body}),
                    headers={"Content-Type": "application/json", "X-CSRFToken": token, "Referer": base + "/"},
                )
                direct.append((time.perf_counter() - started) * 1000)
                revision = response.json()["revision"]
            print(
                f"same PUT from outside the browser: ms median {statistics.median(direct):.1f} "
                f"p95 {percentile(direct, 0.95):.1f}"
            )
            print(
                f"saves: {len(saves)}, round trip ms median {statistics.median(saves):.1f} p95 {save_p95:.1f}; "
                f"network part (Resource Timing) median {statistics.median(network):.1f} "
                f"p95 {percentile(network, 0.95):.1f}"
            )
            context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        json.dumps(
            {
                "first_paint_s": round(first_paint_s, 3),
                "pan_frame_ms_median": round(pan_median, 2),
                "save_p95_ms": round(save_p95, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
