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


def kept_database_name(name: str) -> str:
    """The database a benchmark keeps under `name` (--keep / --reuse): letters, digits and _ only."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise SystemExit(f"a kept database's name is letters, digits and _: {name!r}")
    return f"defectlab_bench_keep_{name.lower()}"


def _postgres_database(*, keep: str | None = None, reuse: str | None = None) -> str | None:
    """A fresh database dropped at exit; or one kept after exit (`keep`, made afresh) or kept before (`reuse`)."""
    try:
        import psycopg
    except ImportError:
        return None
    kept = keep or reuse
    name = kept_database_name(kept) if kept else f"defectlab_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            if reuse:
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                    raise SystemExit(f"no kept database {name}: build it with --keep {reuse}")
            else:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    if keep or reuse:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def kept_scratch(name: str) -> Path:
    """The media and var folder that goes with a kept database (its stored files and manifests)."""
    return Path(tempfile.gettempdir()) / f"defectlab-bench-keep-{name.lower()}"


def django_for_benchmark(*, database: str = "auto", keep: str | None = None, reuse: str | None = None) -> str:
    """Configure and set up Django on a fresh database; returns the database vendor. `keep` keeps the database
    and media after exit under that name (PostgreSQL only), `reuse` opens one kept before (then migrates it: a
    new index is built on the kept rows). Drop a kept one with bench/scale.py --drop NAME."""
    sys.path.insert(0, str(REPO))
    if keep or reuse:
        scratch = str(kept_scratch(keep or reuse or ""))
        if keep:
            shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch, exist_ok=True)
    else:
        scratch = tempfile.mkdtemp(prefix="defectlab-bench-")
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    url = _postgres_database(keep=keep, reuse=reuse) if database in ("auto", "postgres") else None
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


def kept_drop(name: str) -> None:
    """Drop a kept database and its folder."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{kept_database_name(name)}" WITH (FORCE)')
    shutil.rmtree(kept_scratch(name), ignore_errors=True)


def static_collect() -> None:
    """Collect the built static files into the benchmark's scratch folder, as a deployment does, so a server
    started by the benchmark (gunicorn, WhiteNoise) serves the editor's bundle. After django_for_benchmark."""
    from django.conf import settings
    from django.core.management import call_command

    os.environ["DEFECTLAB_STATIC_ROOT"] = os.environ["DEFECTLAB_VAR_DIR"] + "/static"
    settings.STATIC_ROOT = Path(os.environ["DEFECTLAB_STATIC_ROOT"])
    call_command("collectstatic", interactive=False, verbosity=0)
