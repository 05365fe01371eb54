"""The assist's speed, end to end, with a randomly initialised MobileSAM installed through the real path (no SAM
weights can be fetched here; latency does not depend on the weights' values), against a production-style server
started here (gunicorn, a throw-away PostgreSQL database, loopback) and Debian's Chromium (headless):

1. encoder_s: seconds per image of the `assist_embeddings` job (the ingest-time job: image decode, MobileSAM's
   encoder in onnxruntime on 2 threads, the fp16 cache write), median over the bench's images;
2. server_click_p50_ms: a one-click SAM prompt through POST /api/v1/images/{id}/assist/ on an image embedded by
   the job, timed by the client around the whole HTTP request (keep-alive, token auth), median;
3. browser_click_p50_ms: a one-click prompt with the editor's Assist click tool, decoded in the editor's Web Worker
   (onnxruntime-web, wasm, the int8 decoder), from the click to the outline ready to paint (the editor's own
   timing, window.defectlab.assistTimings), median;
4. first_click_ms: the first click on an image just opened, whose embedding the ingest job precomputed, as an
   inspector works: Next opens the queue's next image in place (the editor fetched its embedding when the
   previous image opened), the click made as soon as it is ready; median of 3 images. Logged beside it: the first
   click on a new page (the worker starts, compiles the wasm from the HTTP cache, loads the decoder, fetches the
   embedding), and the same with an empty browser cache (the 15 MB wasm and 4.7 MB decoder over loopback);
5. fallback_ms: the weight-free classical engine, a box prompt round each defect through the same endpoint, median.

    nice -n 0 python bench/assist.py [--images 6] [--clicks 30] [--data DIR]
    (needs the bundle: cd frontend && npm install && npm run build)

The shared machine's load average is printed with the figures: other work on its 2 cores explains most spread.
Last line: {"encoder_s": .., "server_click_p50_ms": .., "browser_click_p50_ms": .., "first_click_ms": ..,
"fallback_ms": ..}
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import REPO, SHARED_DATA, django_for_benchmark, static_collect  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BENCH_PASSWORD = "bench-only-" + os.urandom(6).hex()  # a throw-away user in a throw-away database
DEFECT_CLASSES = ("blowhole", "crack", "break", "fray", "uneven")
SERVER_START_TIMEOUT_SECONDS = 60
WARM_UP_CLICKS = 8  # per measurement: both gunicorn workers open their sessions, the browser compiles its kernels
FIRST_CLICK_IMAGES = 3
ANSWER_TIMEOUT_MS = 60_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tiles(data: Path, count: int) -> list[tuple[Path, str]]:
    """`count` defect tiles, one class after the other (sorted names: the same tiles every run)."""
    by_class = {name: sorted((data / name).glob("*.jpg")) for name in DEFECT_CLASSES}
    chosen: list[tuple[Path, str]] = []
    for index in range(count):
        name = DEFECT_CLASSES[index % len(DEFECT_CLASSES)]
        chosen.append((by_class[name][index // len(DEFECT_CLASSES)], name))
    return chosen


def defect_prompts(mask_path: Path, count: int) -> list[tuple[tuple[int, int], tuple[int, int, int, int]]]:
    """(a click on the defect, a box round it 4 px loose) for `count` prompts, cycling over the tile's defect
    pixels so that each click is a new point."""
    from datasets.ingest import read_mask

    mask = read_mask(mask_path.read_bytes(), mask_path.name).astype(bool)
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    box = (max(0, xs.min() - 4), max(0, ys.min() - 4), min(width - 1, xs.max() + 4), min(height - 1, ys.max() + 4))
    picks = np.random.default_rng(0).choice(len(xs), size=count, replace=len(xs) < count)
    return [((int(xs[pick]), int(ys[pick])), tuple(int(value) for value in box)) for pick in picks]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_start(port: int) -> subprocess.Popen:
    environment = {**os.environ, "DEFECTLAB_ALLOWED_HOSTS": "127.0.0.1", "DEFECTLAB_LOG_LEVEL": "ERROR"}
    command = [
        sys.executable, "-m", "gunicorn", "defectlab.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--threads", "4", "--worker-class", "gthread",
        "--keep-alive", "30", "--timeout", "120", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=environment, start_new_session=True)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not start")


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed_posts(port: int, token: str, requests: list[tuple[str, dict]], server_ms: list[float]) -> list[float]:
    """Milliseconds of each POST, client-side, on one keep-alive connection (the server's own `ms` of each answer
    goes to `server_ms`); any answer but 200 stops the bench."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    timings = []
    for path, body in requests:
        started = time.perf_counter()
        connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        text = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"POST {path} answered {response.status}: {text[:300]!r}")
        server_ms.append(float(json.loads(text)["ms"]))
    connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=6, help="tiles ingested (encoder timing, first clicks)")
    parser.add_argument("--clicks", type=int, default=30, help="timed clicks per measurement")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="magnetic-tile layout: CLASS/NAME.jpg + .png")
    args = parser.parse_args()
    if not (REPO / "frontend/static/frontend/build/samWorker.js").exists():
        raise SystemExit("build the editor first: (cd frontend && npm install && npm run build)")
    if args.images < FIRST_CLICK_IMAGES + 2:
        raise SystemExit(f"--images must be at least {FIRST_CLICK_IMAGES + 2}")
    warnings.filterwarnings("ignore")  # the ONNX exporter's tracer warnings
    vendor = django_for_benchmark(database="postgres")
    static_collect()
    import torch
    from django.contrib.auth import get_user_model

    from annotation.models import DefectClass, Membership, Project, Role
    from annotation.services.images import assignments_create
    from assist.services.sam import EMBEDDINGS_JOB_KIND, sam_install
    from datasets.services.imports import images_import
    from datasets.sources import Source
    from defectlab.accounts.services import api_token_create
    from defectlab.jobs.services import job_create, job_run

    user = get_user_model().objects.create_user(username="bench", password=BENCH_PASSWORD)
    project = Project.objects.create(name="Assist", slug="assist-bench")
    Membership.objects.create(project=project, user=user, role=Role.INSPECTOR)
    classes = {name: DefectClass.objects.create(project=project, name=name) for name in DEFECT_CLASSES}
    chosen = tiles(args.data, args.images)
    images_import(
        project=project,
        sources=[Source(filename=path.name, read=(lambda path=path: path.read_bytes())) for path, _ in chosen],
    )
    images = [project.images.get(original_filename=path.name) for path, _ in chosen]
    assignments_create(project=project, image_ids=[image.pk for image in images], annotator=user, assigned_by=None)
    _, token = api_token_create(user=user)
    log(f"database={vendor}; {len(images)} tiles, {images[0].width}x{images[0].height} px and alike")

    # SAM, installed as an admin does (verify, copy, ONNX export, parity), with random weights.
    torch.set_num_threads(2)
    torch.manual_seed(0)
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "mobile_sam_random.pt"
        torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), checkpoint)
        started = time.perf_counter()
        model_id = sam_install(
            checkpoint_path=checkpoint, model_type="vit_t", installed_by="bench"
        ).installation.model_id
    log(f"installed {model_id} in {time.perf_counter() - started:.0f} s")

    # 1. The ingest-time embeddings job, one image a job (the first opens onnxruntime's session: not timed).
    encoder_seconds = []
    for index, image in enumerate(images):
        started = time.perf_counter()
        job = job_run(
            job_id=job_create(
                kind=EMBEDDINGS_JOB_KIND, project=project, created_by=None, params={"image_ids": [image.pk]}
            ).pk
        )
        elapsed = time.perf_counter() - started
        if job.status != "succeeded" or job.result["embedded"] != 1:
            raise SystemExit(f"the embeddings job failed: {job.error or job.result}")
        if index > 0:
            encoder_seconds.append(elapsed)
    log(f"encoder (s per image, the embeddings job): {[round(value, 2) for value in encoder_seconds]}")

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    port = free_port()
    server = server_start(port)
    base = f"http://127.0.0.1:{port}"
    try:
        # 2 and 5: the server's SAM and the classical engine through the endpoint, HTTP included.
        server_image, server_tile = images[0], chosen[0]
        prompts = defect_prompts(server_tile[0].with_suffix(".png"), WARM_UP_CLICKS + args.clicks)
        class_id = classes[server_tile[1]].pk
        path = f"/api/v1/images/{server_image.pk}/assist/"
        sam_requests = [
            (path, {"prompt": {"defect_class_id": class_id, "positive_clicks": [list(click)]}}) for click, _ in prompts
        ]
        sam_server_ms: list[float] = []
        sam_ms = timed_posts(port, token, sam_requests, sam_server_ms)[WARM_UP_CLICKS:]
        box_requests = [
            (path, {"engine": "classical", "prompt": {"defect_class_id": class_id, "box": list(box)}})
            for _, box in prompts
        ]
        classical_server_ms: list[float] = []
        classical_ms = timed_posts(port, token, box_requests, classical_server_ms)[WARM_UP_CLICKS:]
        log(
            f"server SAM click ms: median {median(sam_ms)}, p90 {percentile(sam_ms, 0.9):.1f}; "
            f"the server's own share (engine and outline) median {median(sam_server_ms[WARM_UP_CLICKS:])}"
        )
        log(
            f"classical box ms: median {median(classical_ms)}; "
            f"the server's own share median {median(classical_server_ms[WARM_UP_CLICKS:])}"
        )

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # eval'd waits

            def login(context) -> None:
                page = context.new_page()
                page.goto(f"{base}/login/")
                page.fill("input[name=username]", "bench")
                page.fill("input[name=password]", BENCH_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                page.close()

            def editor_open(page, image) -> None:
                page.goto(f"{base}/images/{image.pk}/edit/")
                page.wait_for_selector("#editor-root[data-state=ready]")
                page.wait_for_function("document.getElementById('assist-status').textContent.startsWith('Assist: sam')")
                page.keyboard.press("c")

            def click(page, point: tuple[int, int], answers: int) -> float:
                """Clicks the image pixel `point` with Assist click; the editor's timing of the answer (ms)."""
                x, y = page.evaluate("([x, y]) => window.defectlab.editor.view.vertexToScreen([x, y])", list(point))
                box = page.locator("#overlay-layer").bounding_box()
                page.mouse.click(box["x"] + x, box["y"] + y)
                page.wait_for_function(f"window.defectlab.assistTimings.length > {answers}", timeout=ANSWER_TIMEOUT_MS)
                timing = page.evaluate(f"window.defectlab.assistTimings[{answers}]")
                if timing["where"] != "browser":
                    raise SystemExit(f"the server answered, not the browser: {page.text_content('#assist-status')}")
                page.keyboard.press("Escape")  # each click a new one-click prompt
                decode_ms.append(float(timing["decodeMs"]))
                worker_ms.append(float(timing["workerMs"]))
                return float(timing["ms"])

            decode_ms: list[float] = []
            worker_ms: list[float] = []
            login(context)
            tile_of = {image.pk: tile for image, tile in zip(images, chosen, strict=True)}

            def point_on(image_id: int) -> tuple[int, int]:
                return defect_prompts(tile_of[image_id][0].with_suffix(".png"), 1)[0][0]

            # First clicks on a new page (the worker starts, the wasm compiles): logged, not the figure.
            new_page_clicks = []
            for image in images[2 : 2 + FIRST_CLICK_IMAGES]:
                page = context.new_page()
                editor_open(page, image)
                new_page_clicks.append(click(page, point_on(image.pk), 0))
                page.close()
            log(f"first click ms on a new page (warm HTTP cache): {[round(value) for value in new_page_clicks]}")
            cold = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
            login(cold)
            page = cold.new_page()
            editor_open(page, images[2 + FIRST_CLICK_IMAGES])
            first_click_cold_ms = click(page, point_on(images[2 + FIRST_CLICK_IMAGES].pk), 0)
            cold.close()
            log(f"first click ms on a new page, empty browser cache: {first_click_cold_ms:.0f}")

            # 3. Clicks in the browser, one after another, on one image.
            page = context.new_page()
            editor_open(page, images[1])
            points = [
                point for point, _ in defect_prompts(chosen[1][0].with_suffix(".png"), WARM_UP_CLICKS + args.clicks)
            ]
            decode_ms.clear()
            worker_ms.clear()
            browser_ms = [click(page, point, index) for index, point in enumerate(points)][WARM_UP_CLICKS:]
            threads = page.evaluate("window.defectlab.editor.assist.sam.ready")
            rounded = [round(value) for value in browser_ms]
            log(f"browser click ms: median {median(browser_ms)}, all {rounded}; wasm threads {threads}")
            run_ms, in_worker_ms = median(decode_ms[WARM_UP_CLICKS:]), median(worker_ms[WARM_UP_CLICKS:])
            log(
                f"of which onnxruntime-web's decoder run: median {run_ms} ms; the worker's whole (the run, then the "
                f"shown answer's upscaling, clean-up and outline): median {in_worker_ms} ms"
            )

            # 4. First clicks as an inspector works: Next opens the queue's next image in place, embedded at ingest
            # and fetched by the editor when the previous image opened; clicked as soon as it is ready.
            first_clicks = []
            answers = len(points)
            for _ in range(FIRST_CLICK_IMAGES):
                previous = page.evaluate("document.getElementById('editor-root').dataset.imageId")
                page.click("#next-button")
                page.wait_for_function(
                    f"document.getElementById('editor-root').dataset.imageId !== '{previous}' && "
                    "document.getElementById('editor-root').dataset.state === 'ready'"
                )
                page.keyboard.press("c")
                image_id = int(page.evaluate("document.getElementById('editor-root').dataset.imageId"))
                first_clicks.append(click(page, point_on(image_id), answers))
                answers += 1
            log(f"first click ms after Next: {[round(value) for value in first_clicks]}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)

    load = os.getloadavg()
    log(f"load average (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    log(f"first_click_cold_ms: {first_click_cold_ms:.0f}")
    print(
        json.dumps(
            {
                "encoder_s": round(statistics.median(encoder_seconds), 2),
                "server_click_p50_ms": median(sam_ms),
                "browser_click_p50_ms": median(browser_ms),
                "first_click_ms": median(first_clicks),
                "fallback_ms": median(classical_ms),
            }
        )
    )


if __name__ == "__main__":
    main()
