"""/healthz: database, broker, worker heartbeat and disk, each with its own verdict."""

import json
import shutil
import socket
import threading
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

HEARTBEAT_DIR = "heartbeats"
HEARTBEAT_INTERVAL_SECONDS = 10
HEARTBEAT_STALE_SECONDS = 60
MIN_FREE_DISK_BYTES = 1024**3  # below 1 GiB free, uploads and exports start failing


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        connect_timeout=2,
    ) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": broker.transport_cls}


def _check_worker() -> dict:
    _, names = default_storage.listdir(HEARTBEAT_DIR) if default_storage.exists(HEARTBEAT_DIR) else ([], [])
    beats = []
    for name in names:
        try:
            with default_storage.open(f"{HEARTBEAT_DIR}/{name}") as handle:
                beats.append(json.loads(handle.read()))
        except (OSError, ValueError):
            continue
    fresh = [beat for beat in beats if time.time() - beat.get("at", 0) < HEARTBEAT_STALE_SECONDS]
    return {"ok": bool(fresh), "workers": sorted(beat["host"] for beat in fresh)}


def _check_disk() -> dict:
    usage = shutil.disk_usage(settings.MEDIA_ROOT if settings.MEDIA_ROOT.exists() else settings.BASE_DIR)
    return {"ok": usage.free >= MIN_FREE_DISK_BYTES, "free_bytes": usage.free}


CHECKS = {"database": _check_database, "broker": _check_broker, "worker": _check_worker, "disk": _check_disk}


@require_GET
def healthz(request) -> JsonResponse:
    report = {}
    for name, check in CHECKS.items():
        try:
            report[name] = check()
        except Exception as error:  # noqa: BLE001 - a health check reports every failure, it never raises
            report[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    healthy = all(part["ok"] for part in report.values())
    return JsonResponse({"ok": healthy, **report}, status=200 if healthy else 503)


def _beat_forever(host: str) -> None:
    key = f"{HEARTBEAT_DIR}/{host}.json"
    while True:
        try:
            if default_storage.exists(key):
                default_storage.delete(key)
            default_storage.save(key, ContentFile(json.dumps({"host": host, "at": time.time()}).encode()))
        except OSError:
            pass  # the disk check reports storage trouble; the next beat tries again
        time.sleep(HEARTBEAT_INTERVAL_SECONDS)


def start_heartbeat(host: str | None) -> None:
    """Called when a worker is ready: /healthz knows a worker is alive while its beats are fresh."""
    host = host or socket.gethostname()
    threading.Thread(target=_beat_forever, args=(host,), daemon=True, name="defectlab-heartbeat").start()
