"""Annotation save latency and throughput on a production-style server: gunicorn on 127.0.0.1 in front of a
throw-away PostgreSQL database, token auth, one keep-alive connection per client.

Each client is an inspector editing their own 50-vertex polygon on their own image with
`PUT /api/v1/annotations/{id}/` and the right `expected_revision` (every save moves the polygon, so the server
re-derives area, bbox and RLE and writes an audit entry each time). Two runs:

- paced: every client saves once every 2 s (the editor's autosave pace), open loop: a save is due at its slot
  whether or not the previous one has returned, and latency counts from the slot, so a slow server cannot hide
  its queue (no coordinated omission) -> p95;
- max: every client saves again as soon as its previous save returns (closed loop) -> saves per second and p95.

The server runs `gunicorn --worker-class gthread --workers 3 --threads 4` for 2 cores: one process more than cores,
so a worker waiting on PostgreSQL leaves the cores busy; threads keep 20 keep-alive clients served without a
process each (a save spends about a third of its time waiting on the database, so a few threads per GIL help
and more only add switching). It also prints the CPU a save costs the server (gunicorn + its PostgreSQL
backends), which says what idle cores would reach when other work shares the machine.

    python bench/api_save.py [--clients 20] [--paced-seconds 20] [--max-seconds 15] [--workers 3] [--threads 4]

Last line: {"clients": 20, "paced_p95_ms": .., "max_saves_per_s": .., "max_p95_ms": ..}
"""

import argparse
import http.client
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import REPO, django_for_benchmark  # noqa: E402

IMAGE_SIZE_PX = (2048, 1536)  # width, height: a typical area-scan camera frame
POLYGON_VERTICES = 50
SAVE_INTERVAL_SECONDS = 2.0  # the editor autosaves at most this often
REQUEST_TIMEOUT_SECONDS = 10
SERVER_START_TIMEOUT_SECONDS = 60
WARM_UP_SAVES = 5  # per client, untimed: connections open, workers import and cache


@dataclass
class Client:
    username: str
    token: str
    annotation_id: int
    centre: tuple[float, float]
    revision: int = 1
    saves: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def polygon(centre: tuple[float, float], step: int) -> dict:
    """A 50-vertex outline that changes with every save (the radius breathes between 60 and 100 px)."""
    radius = 80 + 20 * math.sin(step / 3)
    x, y = centre
    exterior = [
        [round(x + radius * math.cos(2 * math.pi * index / POLYGON_VERTICES), 2),
         round(y + 0.6 * radius * math.sin(2 * math.pi * index / POLYGON_VERTICES), 2)]
        for index in range(POLYGON_VERTICES)
    ]  # fmt: skip
    return {"polygons": [{"exterior": exterior}]}


def _reader(data: bytes):
    return lambda: data


def set_up(clients: int) -> list[Client]:
    """A project, one inspector per client with a token, an image each (through ingestion) and a polygon on it."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from PIL import Image as PILImage

    from annotation.models import DefectClass, Membership, Project, Role
    from annotation.services.annotations import annotation_create
    from annotation.services.images import assignments_create
    from datasets.services.imports import images_import
    from datasets.sources import Source
    from defectlab.accounts.services import api_token_create

    project = Project.objects.create(slug="bench-save", name="Save benchmark", px_per_mm=10)
    defect_class = DefectClass.objects.create(project=project, name="crack", min_area_px=20)
    width, height = IMAGE_SIZE_PX
    gradient = np.add.outer(np.arange(height) // 8, np.arange(width) // 8).astype(np.uint8)
    sources = []
    for index in range(clients):
        buffer = io.BytesIO()
        PILImage.fromarray(gradient + index, mode="L").save(buffer, format="PNG", compress_level=1)
        sources.append(Source(filename=f"part-{index:02d}.png", read=_reader(buffer.getvalue())))
    summary = images_import(project=project, sources=sources)
    if summary.imported != clients:
        raise SystemExit(f"set-up imported {summary.as_dict()}")
    result = []
    for index, image in enumerate(project.images.order_by("id")):
        user = get_user_model().objects.create_user(username=f"inspector{index:02d}", password=None)
        Membership.objects.create(project=project, user=user, role=Role.INSPECTOR)
        assignments_create(project=project, image_ids=[image.pk], annotator=user, assigned_by=None)
        centre = (width / 2 + (index % 5) * 40, height / 2 + (index // 5) * 40)
        annotation = annotation_create(
            user=user, image_id=image.pk, defect_class_id=defect_class.pk, geometry_data=polygon(centre, 0)
        )
        _, key = api_token_create(user=user)
        result.append(Client(username=user.username, token=key, annotation_id=annotation.pk, centre=centre))
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, *, workers: int, threads: int, log_path: Path) -> subprocess.Popen:
    """gunicorn with gthread workers: threads share one process's interpreter, keep-alive connections wait in the
    worker's poller rather than holding a thread. The environment (DATABASE_URL, media) is the benchmark's."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "defectlab.settings", "DEFECTLAB_LOG_LEVEL": "ERROR"}
    command = [
        sys.executable, "-m", "gunicorn", "defectlab.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--keep-alive", "30", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    log = log_path.open("wb")
    return subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn's arbiter and its workers: the group this script started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def wait_until_serving(port: int, token: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/projects/", headers={"Authorization": f"Token {token}"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {SERVER_START_TIMEOUT_SECONDS} s")


class Saver:
    """One client's keep-alive connection and its save call."""

    def __init__(self, client: Client, port: int):
        self.client, self.port = client, port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)

    def save(self) -> bool:
        client = self.client
        body = json.dumps(
            {"expected_revision": client.revision, "geometry": polygon(client.centre, client.saves + 1)}
        ).encode()
        headers = {"Authorization": f"Token {client.token}", "Content-Type": "application/json"}
        for attempt in (1, 2):
            try:
                self.connection.request("PUT", f"/api/v1/annotations/{client.annotation_id}/", body, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError) as error:
                self.connection.close()  # the server closed an idle keep-alive: reconnect once
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_SECONDS)
                if attempt == 2:
                    client.errors.append(f"{type(error).__name__}: {error}")
                    return False
        if response.status != 200:
            client.errors.append(f"{response.status}: {data[:200]!r}")
            return False
        client.revision = json.loads(data)["revision"]
        client.saves += 1
        return True


def run_paced(savers: list[Saver], *, seconds: float) -> list[float]:
    """Open loop: client i saves at start + i * interval / clients + k * interval."""
    start = time.monotonic() + 0.5
    slots = int(seconds / SAVE_INTERVAL_SECONDS)

    def loop(index: int, saver: Saver) -> None:
        for slot in range(slots):
            due = start + index * SAVE_INTERVAL_SECONDS / len(savers) + slot * SAVE_INTERVAL_SECONDS
            time.sleep(max(0.0, due - time.monotonic()))
            if saver.save():
                saver.client.latencies_ms.append((time.monotonic() - due) * 1000)

    return _run_threads(savers, loop)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process, from /proc (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_pids(server: subprocess.Popen, database: str) -> tuple[list[int], list[int]]:
    """gunicorn's arbiter and workers, and the PostgreSQL backends serving the benchmark database."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                children.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
        backends = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        ).fetchall()
    return [server.pid, *children], [pid for (pid,) in backends]


class CpuMeter:
    """CPU seconds spent by the server (gunicorn + its PostgreSQL backends) and by this client process. PostgreSQL
    backends are read after the run too, so one opened during it counts from zero."""

    def __init__(self, server: subprocess.Popen, database: str):
        self.server, self.database = server, database
        self.before = {pid: _cpu_seconds(pid) for pids in _server_pids(server, database) for pid in pids}
        self.client_before = sum(os.times()[:2])

    def stop(self) -> tuple[float, float, float]:
        """(gunicorn, postgres, client) CPU seconds since the meter started."""
        web, database = _server_pids(self.server, self.database)
        web_cpu, database_cpu = (
            sum(_cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids) for pids in (web, database)
        )
        return web_cpu, database_cpu, sum(os.times()[:2]) - self.client_before


def run_closed(savers: list[Saver], *, seconds: float) -> tuple[list[float], float]:
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    def loop(index: int, saver: Saver) -> None:
        while time.monotonic() < deadline:
            began = time.monotonic()
            if saver.save():
                saver.client.latencies_ms.append((time.monotonic() - began) * 1000)

    latencies = _run_threads(savers, loop)
    return latencies, time.monotonic() - started


def _run_threads(savers: list[Saver], loop) -> list[float]:
    for saver in savers:
        saver.client.latencies_ms = []
    threads = [threading.Thread(target=loop, args=(index, saver)) for index, saver in enumerate(savers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [latency for saver in savers for latency in saver.client.latencies_ms]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def describe(name: str, latencies: list[float]) -> str:
    return (
        f"{name}: saves={len(latencies)} p50={percentile(latencies, 0.50):.1f}ms "
        f"p95={percentile(latencies, 0.95):.1f}ms p99={percentile(latencies, 0.99):.1f}ms max={max(latencies):.1f}ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--paced-seconds", type=float, default=20)
    parser.add_argument("--max-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    arguments = parser.parse_args()
    if (
        not 1 <= arguments.clients <= 200
        or not 0 < arguments.paced_seconds <= 120
        or not 0 < arguments.max_seconds <= 120
    ):
        raise SystemExit("keep it bounded: 1-200 clients, at most 120 s per run")
    vendor = django_for_benchmark(database="postgres")
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    clients = set_up(arguments.clients)
    from django.db import connections

    connections.close_all()  # the server has its own connections; this process only drives HTTP from here on

    port = free_port()
    log_path = Path(os.environ["DEFECTLAB_VAR_DIR"]) / "gunicorn.log"
    server = start_server(port, workers=arguments.workers, threads=arguments.threads, log_path=log_path)
    try:
        wait_until_serving(port, clients[0].token, server, log_path)
        savers = [Saver(client, port) for client in clients]
        for _ in range(WARM_UP_SAVES):
            _run_threads(savers, lambda index, saver: saver.save())
        paced = run_paced(savers, seconds=arguments.paced_seconds)
        meter = CpuMeter(server, database)
        closed, elapsed = run_closed(savers, seconds=arguments.max_seconds)
        web_cpu, database_cpu, client_cpu = meter.stop()
    finally:
        stop_server(server)
    errors = [error for client in clients for error in client.errors]
    print(
        f"database={vendor} server=gunicorn gthread workers={arguments.workers} threads={arguments.threads} "
        f"cpus={os.cpu_count()} clients={arguments.clients} polygon={POLYGON_VERTICES} vertices "
        f"image={IMAGE_SIZE_PX[0]}x{IMAGE_SIZE_PX[1]}"
    )
    print(describe(f"paced (1 save / {SAVE_INTERVAL_SECONDS:g} s / client, {arguments.paced_seconds:g} s)", paced))
    print(describe(f"max (closed loop, {arguments.max_seconds:g} s)", closed) + f" rate={len(closed) / elapsed:.1f}/s")
    # What the server costs per save, whatever else shares the machine: the rate it could reach on idle cores.
    web_ms, database_ms, client_ms = (seconds * 1000 / len(closed) for seconds in (web_cpu, database_cpu, client_cpu))
    print(
        f"cpu per save (max run): gunicorn {web_ms:.1f} ms + postgres {database_ms:.1f} ms, this client {client_ms:.1f}"
        f" ms; {os.cpu_count()} idle cores would serve about {os.cpu_count() * 1000 / (web_ms + database_ms):.0f}"
        f" saves/s (load average {os.getloadavg()[0]:.1f} at the end: other work shares these cores)"
    )
    if errors:
        print(f"errors={len(errors)} first={errors[0]}")
    print(
        json.dumps(
            {
                "clients": arguments.clients,
                "paced_p95_ms": round(percentile(paced, 0.95), 1),
                "max_saves_per_s": round(len(closed) / elapsed, 1),
                "max_p95_ms": round(percentile(closed, 0.95), 1),
            }
        )
    )
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
