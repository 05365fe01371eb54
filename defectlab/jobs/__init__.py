"""Background jobs: one model, one registry of kinds, one Celery task that runs any kind, one recovery sweep and
one API. Every app registers its kinds in its own `job_kinds.py`; this package imports no app."""
