"""Test settings: the real PostgreSQL and Redis on this machine, DEBUG off, media in a temporary folder.

Values come from the environment like production; these are only defaults for a developer machine or CI.
The Celery worker started by the integration tests inherits the same environment."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/defectlab")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEFECTLAB_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("DEFECTLAB_MEDIA_ROOT", tempfile.mkdtemp(prefix="defectlab-test-media-"))
os.environ.setdefault("DEFECTLAB_VAR_DIR", tempfile.mkdtemp(prefix="defectlab-test-var-"))
# Each test session gets its own test database and broker keys (the worker it starts inherits this), so two
# sessions on one machine never share a queue or a database.
TEST_RUN = os.environ.setdefault("DEFECTLAB_TEST_RUN", str(os.getpid()))

from defectlab.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests only
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns about a missing folder
DATABASES["default"]["TEST"] = {"NAME": f"test_defectlab_{TEST_RUN}"}  # noqa: F405
CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"test-{TEST_RUN}:"  # noqa: F405
