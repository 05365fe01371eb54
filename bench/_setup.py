"""Shared set-up for benchmarks: a throw-away database and media folder, so a benchmark never touches real data.

PostgreSQL (127.0.0.1:5432) when it answers, else SQLite; either way created here and dropped at exit."""

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("DEFECTLAB_SHARED_DATA", REPO.parent / "shared" / "data" / "magnetic-tile"))
POSTGRES_ADMIN_URL = os.environ.get("DEFECTLAB_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database() -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    name = f"defectlab_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def django_for_benchmark(*, database: str = "auto") -> str:
    """Configure and set up Django on a fresh database; returns the database vendor."""
    sys.path.insert(0, str(REPO))
    scratch = tempfile.mkdtemp(prefix="defectlab-bench-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    url = _postgres_database() if database in ("auto", "postgres") else None
    if url is None and database == "postgres":
        raise SystemExit("PostgreSQL is not reachable at 127.0.0.1:5432")
    os.environ["DATABASE_URL"] = url or f"sqlite:///{scratch}/bench.sqlite3"
    os.environ["DEFECTLAB_MEDIA_ROOT"] = f"{scratch}/media"
    os.environ["DEFECTLAB_VAR_DIR"] = scratch
    os.environ.setdefault("DEFECTLAB_SECRET_KEY", "benchmark-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "defectlab.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


def static_collect() -> None:
    """Collect the built static files into the benchmark's scratch folder, as a deployment does, so a server
    started by the benchmark (gunicorn, WhiteNoise) serves the editor's bundle. After django_for_benchmark."""
    from django.conf import settings
    from django.core.management import call_command

    os.environ["DEFECTLAB_STATIC_ROOT"] = os.environ["DEFECTLAB_VAR_DIR"] + "/static"
    settings.STATIC_ROOT = Path(os.environ["DEFECTLAB_STATIC_ROOT"])
    call_command("collectstatic", interactive=False, verbosity=0)
