"""DefectLab settings, all from the environment.

Embedded default (no servers): SQLite, media on local disk, kombu's filesystem broker.
Production: DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), DEFECTLAB_MEDIA_ROOT or S3 storage.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from defectlab.env import env_bool, env_bytes, env_int, env_list, env_str, mandatory_secret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DEFECTLAB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEFECTLAB_DEBUG", default=False)
SECRET_KEY = mandatory_secret("DEFECTLAB_SECRET_KEY", debug=DEBUG)
ALLOWED_HOSTS = env_list("DEFECTLAB_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DEFECTLAB_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",  # login throttling (defectlab/accounts/logins.py)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN on the plant network
    "defectlab.jobs",
    "defectlab.accounts",
    "annotation",
    "datasets",
    "qa",
    "assist",
    "frontend",
]

MIDDLEWARE = [
    "defectlab.database_unavailable.DatabaseUnavailableMiddleware",  # a lost database: 503 + Retry-After, not 500
    "django.middleware.security.SecurityMiddleware",
    "defectlab.csp.ContentSecurityPolicyMiddleware",  # before WhiteNoise: static files get the policy too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as Axes asks: turns a locked-out page login into the lock-out page
]

ROOT_URLCONF = "defectlab.urls"
WSGI_APPLICATION = "defectlab.wsgi.application"
ASGI_APPLICATION = "defectlab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'defectlab.sqlite3'}"),
        conn_max_age=env_int("DEFECTLAB_DB_CONN_MAX_AGE_SECONDS", 60),
    )
}
# Django's engines, writing JSON columns with orjson (defectlab/db/).
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "defectlab.db.postgresql",
    "django.db.backends.sqlite3": "defectlab.db.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The embedded default serves a web process and a worker at once: wait for the write lock.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects-page"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DEFECTLAB_STATIC_ROOT", str(VAR_DIR / "static")))
EDITOR_BUILD_DIR = env_str("DEFECTLAB_EDITOR_BUILD_DIR")
"The editor bundle built outside the source tree (docker-compose); by default it lives in frontend/static."
STATICFILES_DIRS = [("frontend/build", EDITOR_BUILD_DIR)] if EDITOR_BUILD_DIR else []

# Media: local disk by default; S3-compatible object storage when a bucket is named (shared by all web/worker hosts).
MEDIA_ROOT = Path(env_str("DEFECTLAB_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served publicly: image bytes go through permission-checked views
S3_BUCKET = env_str("DEFECTLAB_S3_BUCKET")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("DEFECTLAB_S3_ENDPOINT_URL") or None,
            "file_overwrite": False,
        },
    }
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Celery: kombu's filesystem transport needs no server; production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("DEFECTLAB_TASK_VISIBILITY_TIMEOUT_SECONDS", 12 * 3600),
    }
    "A task unacknowledged this long (its worker died) is delivered again; longer than the longest training run."
DEFECTLAB_JOB_STALE_SECONDS = env_int("DEFECTLAB_JOB_STALE_SECONDS", 600)
"A job with no sign of life (queued, started, progress) for this long is taken to be lost by the recovery sweep."
DEFECTLAB_JOB_MAX_ATTEMPTS = env_int("DEFECTLAB_JOB_MAX_ATTEMPTS", 3)
"A job whose worker was lost this many times is marked failed instead of being run again."
DEFECTLAB_JOB_PROJECT_ACCESS = "annotation.selectors.project_job_access"
"The function that says who sees and cancels a project's jobs (defectlab/jobs/access.py imports no app)."
DEFECTLAB_LABEL_NEXT_RANKING = env_str(
    "DEFECTLAB_LABEL_NEXT_RANKING", "assist.label_review_selectors.label_next_ranked_image_ids"
)
"The function that puts new work in a model's label-next order, (*, images, limit) -> ids (annotation imports no"
"app); empty: upload order."
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
DEFECTLAB_COUNTS_COMPACT_SECONDS = env_int("DEFECTLAB_COUNTS_COMPACT_SECONDS", 300)
"Seconds between foldings of the count changes behind the project page's counts into one row per key."
DEFECTLAB_QA_STATISTICS_REFRESH_SECONDS = env_int("DEFECTLAB_QA_STATISTICS_REFRESH_SECONDS", 300)
"Seconds between background computations of every project's QA statistics (QaStatisticsSnapshot)."
DEFECTLAB_QA_STATISTICS_LIVE_MS = env_int("DEFECTLAB_QA_STATISTICS_LIVE_MS", 50)
"The QA page computes its statistics live if that took under this many milliseconds last time, else shows the stored."
CELERY_BEAT_SCHEDULE = {
    "jobs-recover": {"task": "defectlab.jobs.tasks.jobs_recover_task", "schedule": 60.0},
    "counts-compact": {"task": "annotation.tasks.counts_compact_task", "schedule": DEFECTLAB_COUNTS_COMPACT_SECONDS},
    "qa-statistics-refresh": {
        "task": "qa.tasks.qa_statistics_refresh_task",
        "schedule": DEFECTLAB_QA_STATISTICS_REFRESH_SECONDS,
    },
}
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-job leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # job state lives in our own tables, not in a result backend

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its challenge turns "not logged in" into 401, which scripts and the editor tell from 403.
        "defectlab.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "defectlab.schema.AutoSchema",
    "EXCEPTION_HANDLER": "defectlab.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["defectlab.api.renderers.JSONRenderer"],  # DRF's, writing with orjson
    "DEFAULT_PARSER_CLASSES": [
        "defectlab.api.parsers.JSONParser",  # DRF's with a nesting limit: a body too deep is a 400, not a 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")
SPECTACULAR_SETTINGS = {
    "TITLE": "DefectLab API",
    "DESCRIPTION": "Projects, defect taxonomy, images, annotations, dataset versions, QA and assist.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ImageStatusEnum": "annotation.models.ImageStatus",
        "AssignmentStatusEnum": "annotation.models.AssignmentStatus",
        "JobStatusEnum": "defectlab.jobs.models.JobStatus",
    },
}

# Ingestion limits. Each is a defence against hostile files.
DEFECTLAB_MAX_IMAGE_PIXELS = env_int("DEFECTLAB_MAX_IMAGE_PIXELS", 200_000_000)
"Images with more pixels than this are rejected as decompression bombs (a 16,384 x 12,288 line scan fits)."
DEFECTLAB_MAX_UPLOAD_BYTES = env_int("DEFECTLAB_MAX_UPLOAD_BYTES", 2 * 1024**3)
"Largest single upload (an image or a zip) accepted by the API, in bytes."
DEFECTLAB_MAX_ZIP_UNCOMPRESSED_BYTES = env_int("DEFECTLAB_MAX_ZIP_UNCOMPRESSED_BYTES", 8 * 1024**3)
"Largest total uncompressed size of one zip, in bytes."
DEFECTLAB_MAX_ZIP_RATIO = env_int("DEFECTLAB_MAX_ZIP_RATIO", 200)
"A zip entry that inflates more than this many times its compressed size is treated as a zip bomb."
DEFECTLAB_MAX_ZIP_ENTRIES = env_int("DEFECTLAB_MAX_ZIP_ENTRIES", 100_000)
"Most entries one zip may hold."
DEFECTLAB_IMAGE_FORMATS = env_list("DEFECTLAB_IMAGE_FORMATS", ["JPEG", "PNG", "TIFF", "BMP", "WEBP"])
"Pillow format names accepted on upload; anything else is rejected."
DEFECTLAB_THUMBNAIL_PX = env_int("DEFECTLAB_THUMBNAIL_PX", 256)
"Longest side of an image thumbnail, in pixels."
# Tiled pyramids (datasets/pyramid.py): the editor paints large images tile by tile instead of waiting for them.
DEFECTLAB_PYRAMID_MIN_PX = env_int("DEFECTLAB_PYRAMID_MIN_PX", 2048)
"Images whose longer side exceeds this many pixels get a tiled pyramid at ingestion; smaller ones are shown whole."
DEFECTLAB_PYRAMID_TILE_PX = env_int("DEFECTLAB_PYRAMID_TILE_PX", 512)
"Side of one square pyramid tile, in pixels (edge tiles are smaller)."
DEFECTLAB_PYRAMID_JPEG_QUALITY = env_int("DEFECTLAB_PYRAMID_JPEG_QUALITY", 90)
"JPEG quality (1-95) of pyramid tiles."
# Geometry budget (docs/architecture.md): what one annotation's geometry and one image's annotations may cost,
# checked before anything is rasterised. A refusal (400 geometry_too_complex, 413 too_large) names the setting.
DEFECTLAB_GEOMETRY_MAX_BODY_BYTES = env_int("DEFECTLAB_GEOMETRY_MAX_BODY_BYTES", 1024**2)
"Largest request body, in bytes, that creating or saving an annotation reads (10,000 vertices at full precision fit)."
DEFECTLAB_GEOMETRY_MAX_POLYGONS = env_int("DEFECTLAB_GEOMETRY_MAX_POLYGONS", 1_000)
"Most polygons (separate outlines) one annotation may hold."
DEFECTLAB_GEOMETRY_MAX_HOLES_PER_POLYGON = env_int("DEFECTLAB_GEOMETRY_MAX_HOLES_PER_POLYGON", 1_000)
"Most holes one polygon of an annotation may hold."
DEFECTLAB_GEOMETRY_MAX_VERTICES = env_int("DEFECTLAB_GEOMETRY_MAX_VERTICES", 10_000)
"Most vertices one annotation may hold, over all its outlines and holes."
DEFECTLAB_GEOMETRY_MAX_RASTER_PX = env_int("DEFECTLAB_GEOMETRY_MAX_RASTER_PX", 16_000_000)
"Most pixels rasterising one annotation may touch: the areas of its polygons' bounding boxes added up, in px."
DEFECTLAB_GEOMETRY_MAX_OUTLINE_PX = env_int("DEFECTLAB_GEOMETRY_MAX_OUTLINE_PX", 250_000)
"Longest total outline of one annotation (all its rings), in px; it also bounds the size of its stored RLE."
DEFECTLAB_GEOMETRY_MAX_EDGES_PER_ROW = env_int("DEFECTLAB_GEOMETRY_MAX_EDGES_PER_ROW", 500)
"Most edges of one outline that a single row of pixels may cross (a ring crossing itself in a star costs its square)."
DEFECTLAB_IMAGE_MAX_ANNOTATIONS = env_int("DEFECTLAB_IMAGE_MAX_ANNOTATIONS", 2_000)
"Most annotations one image may hold, everyone's and final ones together."
DEFECTLAB_IMAGE_MAX_VERTICES = env_int("DEFECTLAB_IMAGE_MAX_VERTICES", 100_000)
"Most vertices all annotations of one image may hold together; it bounds what the editor loads for one image."
# Assist (assist/): engines that draw a defect from an inspector's box or clicks, and pre-label jobs.
DEFECTLAB_ASSIST_ENGINE_MODULES = env_list("DEFECTLAB_ASSIST_ENGINE_MODULES", [])
"Python modules imported at start-up beside the built-in engines (each registers its engines with @engine)."
DEFECTLAB_ASSIST_PRELABEL_QUEUE = env_str("DEFECTLAB_ASSIST_PRELABEL_QUEUE", "celery")
"The Celery queue pre-label jobs are sent to (the GPU workers' queue once models run there)."
DEFECTLAB_ASSIST_IMAGE_CACHE_BYTES = env_int("DEFECTLAB_ASSIST_IMAGE_CACHE_BYTES", 256 * 1024**2)
"Decoded grey images each web process keeps for the assist, in bytes (a 600 x 600 image takes 0.36 MB)."
DEFECTLAB_ASSIST_MAX_CLICKS = env_int("DEFECTLAB_ASSIST_MAX_CLICKS", 40)
"Most clicks, positive and negative together, one assist prompt may carry."
DEFECTLAB_ASSIST_MAX_BOX_PX = env_int("DEFECTLAB_ASSIST_MAX_BOX_PX", 2048 * 2048)
"Largest assist box, in pixels (width x height): a larger box is not one defect, and the engine's work grows with it."
# SAM (assist/sam, assist/engines/sam.py): installed with `manage.py sam_install`, never downloaded at start-up.
DEFECTLAB_SAM_DIR = Path(env_str("DEFECTLAB_SAM_DIR", str(VAR_DIR / "sam")))
"Where sam_install keeps the installed checkpoints, their ONNX files and active.json (which one the engine uses)."
DEFECTLAB_SAM_EMBEDDING_CACHE_DIR = Path(env_str("DEFECTLAB_SAM_EMBEDDING_CACHE_DIR", str(VAR_DIR / "sam-embeddings")))
"SAM's image embeddings (fp16 .npy, 2 MB each), shared by the web processes and the workers."
DEFECTLAB_SAM_EMBEDDING_CACHE_MAX_BYTES = env_bytes("DEFECTLAB_SAM_EMBEDDING_CACHE_MAX_BYTES", 2 * 1000**3)
"Most bytes the embedding cache holds (units: 2GB, 512MiB; 2 GB is ~1,000 images); least recently used go first."
DEFECTLAB_SAM_EMBEDDING_QUEUE = env_str("DEFECTLAB_SAM_EMBEDDING_QUEUE", "celery")
"The Celery queue of `assist_embeddings` jobs (images embedded as they are ingested)."
DEFECTLAB_SAM_TILE_PX = env_int("DEFECTLAB_SAM_TILE_PX", 2048)
"Images larger than this on either side are embedded by region (tiles of this side, or the editor's view), never whole."
# Training runs (assist/training, assist/services/training.py): jobs on their own queue, so a GPU host takes them.
DEFECTLAB_TRAINING_QUEUE = env_str("DEFECTLAB_TRAINING_QUEUE", "training")
"The Celery queue of `training_run` jobs: a worker started with `-Q training -c 1` (one run per slot) takes them."
DEFECTLAB_TRAINING_DIR = Path(env_str("DEFECTLAB_TRAINING_DIR", str(VAR_DIR / "training")))
"Each run's folder (checkpoints, ONNX files, worst cases), shared by the web processes and every worker."
DEFECTLAB_TRAINING_MAX_MINUTES = env_int("DEFECTLAB_TRAINING_MAX_MINUTES", 600)
"Longest wall-clock budget a run may ask for, in minutes; keep it under the broker's visibility timeout."
DEFECTLAB_CODE_VERSION = env_str("DEFECTLAB_CODE_VERSION", "")
"Recorded as each training run's code version (an installed release); empty: the git commit of the code, if any."
DEFECTLAB_EVALUATION_QUEUE = env_str("DEFECTLAB_EVALUATION_QUEUE", "celery")
"The Celery queue of `model_evaluation` jobs (a model on a version's test split or a folder)."
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024**2
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2  # larger uploads spool to a temporary file
FILE_UPLOAD_TEMP_DIR = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DEFECTLAB_LOG_LEVEL", "INFO")},
}

# Logins and API tokens (defectlab/accounts). Failed logins on the login page and on POST /api/v1/auth/token/
# are counted per username and per client address; either limit locks that username or address out.
DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME = env_int("DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME", 5)
"Failed logins for one username, within the lock-out window, after which that username is locked out."
DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
"Failed logins from one client address (whatever the usernames), within the window, that lock the address out."
DEFECTLAB_LOGIN_LOCKOUT_SECONDS = env_int("DEFECTLAB_LOGIN_LOCKOUT_SECONDS", 15 * 60)
"Seconds a failure keeps counting after the latest one; a lock-out ends this long after the latest try."
AXES_HANDLER = "defectlab.accounts.logins.LoginAttemptHandler"  # a limit per username and one per address
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own, in this order (logins.py)
AXES_FAILURE_LIMIT = max(DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_USERNAME, DEFECTLAB_LOGIN_FAILURE_LIMIT_PER_ADDRESS)
AXES_COOLOFF_TIME = timedelta(seconds=DEFECTLAB_LOGIN_LOCKOUT_SECONDS)
AXES_CLIENT_IP_CALLABLE = "defectlab.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "defectlab.accounts.logins.lockout_response"
AXES_RESET_ON_SUCCESS = False  # a login to one's own account must not wipe the failures counted against another
AXES_SENSITIVE_PARAMETERS: list[str] = []  # logs name the username and address of a failure (never the password)
DEFECTLAB_API_TOKEN_LIFETIME_SECONDS = env_int("DEFECTLAB_API_TOKEN_LIFETIME_SECONDS", 30 * 24 * 3600)
"Seconds an API token works after it was made; then the script asks for a new one with its username and password."
DEFECTLAB_API_TOKENS_PER_USER = env_int("DEFECTLAB_API_TOKENS_PER_USER", 10)
"Most working API tokens one user holds; making one more deletes their oldest."

CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'wasm-unsafe-eval'"],  # WebAssembly (onnxruntime-web); no eval, no inline script
    "worker-src": ["'self'", "blob:"],  # the editor's workers; onnxruntime-web may start one from a blob
    "style-src": ["'self'"],  # no inline <style> or style="" (setting element.style from scripts is allowed)
    "img-src": ["'self'", "data:", "blob:"],  # Swagger UI's icons are data: URLs
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],  # as X-Frame-Options: DENY
}
"The Content-Security-Policy of every response (defectlab/csp.py): scripts, styles and images from this site only."
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
BEHIND_TLS_PROXY = env_bool("DEFECTLAB_BEHIND_TLS_PROXY", default=False)
"A trusted reverse proxy terminates HTTPS: believe its X-Forwarded-Proto and the address it appends to X-Forwarded-For."
if BEHIND_TLS_PROXY:
    # The plant's reverse proxy terminates HTTPS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DEFECTLAB_HSTS_SECONDS", 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DEFECTLAB_HSTS_INCLUDE_SUBDOMAINS", default=False)
    "Also tell browsers to reach every subdomain of this host over HTTPS only."
    # Plain HTTP that reached the web server around the proxy goes to HTTPS; monitoring may poll /healthz directly.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
