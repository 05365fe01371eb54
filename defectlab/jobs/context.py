"""What a running job's function gets: its params, progress reporting (which is also its heartbeat) and the
cancel check."""

import time
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from defectlab.jobs.models import Job

PROGRESS_EVERY_SECONDS = 0.5  # a job's row is written at most this often (progress and heartbeat)
CANCEL_CHECK_EVERY_SECONDS = 1.0  # the cancel flag is read at most this often


class JobCancelled(Exception):
    """Raised by JobContext.check_cancelled once someone asked to cancel the job; the runner marks it cancelled."""


class JobContext:
    """Handed to a job kind's function. `params` is the job's JSON params; `attempt` is 1 for the first run, more
    for a run after a lost worker.

    A function that opens its own transaction (the freeze reads in one REPEATABLE READ snapshot) would hide its
    progress writes until it commits, hold the job's row lock all along (a cancel request would wait for it), and
    never see a cancel request made after its snapshot began. So while the function is inside a transaction it
    opened, the job's row is written and read through a second connection of our own, in autocommit."""

    def __init__(self, job: Job):
        self.job_id = job.pk
        self.kind = job.kind
        self.params: dict[str, Any] = job.params
        self.project_id: int | None = job.project_id
        self.created_by = job.created_by
        self.attempt: int = job.attempts
        self._depth_at_start = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
        self._side: BaseDatabaseWrapper | None = None
        self._last_write = 0.0
        self._last_message = ""
        self._last_cancel_check = 0.0
        self._is_cancel_requested = False

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Record progress (`done` of `total` units; total None: unchanged) and a sign of life. Written at most
        every PROGRESS_EVERY_SECONDS, and at once when the message changes."""
        now = time.monotonic()
        if now - self._last_write < PROGRESS_EVERY_SECONDS and message == self._last_message:
            return
        values: dict[str, Any] = {"progress_done": done, "message": message[:300], "heartbeat_at": timezone.now()}
        if total is not None:
            values["progress_total"] = total
        self._write(values)
        self._last_write, self._last_message = now, message

    def check_cancelled(self) -> None:
        """Raise JobCancelled if someone asked to cancel this job. Cheap enough to call in a loop."""
        now = time.monotonic()
        if not self._is_cancel_requested and now - self._last_cancel_check >= CANCEL_CHECK_EVERY_SECONDS:
            self._last_cancel_check = now
            self._is_cancel_requested = self._read_cancel_requested()
        if self._is_cancel_requested:
            raise JobCancelled(f"job {self.job_id} was cancelled")

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None

    def _in_own_transaction(self) -> bool:
        return len(connections[DEFAULT_DB_ALIAS].atomic_blocks) > self._depth_at_start

    def _side_connection(self) -> BaseDatabaseWrapper:
        if self._side is None:
            self._side = connections.create_connection(DEFAULT_DB_ALIAS)
        return self._side

    def _write(self, values: dict[str, Any]) -> None:
        if not self._in_own_transaction():
            Job.objects.filter(pk=self.job_id).update(**values)
            return
        side = self._side_connection()
        query = UpdateQuery(Job)
        query.add_update_values(values)
        query.add_q(Q(pk=self.job_id))
        sql, params = query.get_compiler(connection=side).as_sql()
        with side.cursor() as cursor:
            cursor.execute(sql, params)

    def _read_cancel_requested(self) -> bool:
        requested = Job.objects.filter(pk=self.job_id, cancel_requested_at__isnull=False).values("pk")
        if not self._in_own_transaction():
            return requested.exists()
        side = self._side_connection()
        sql, params = requested.query.get_compiler(connection=side).as_sql()
        with side.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None
