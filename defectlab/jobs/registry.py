"""Job kinds, registered by name: `@job_kind("dataset_export", idempotent=True)` on `def run(job) -> dict`.

Kinds live in each app's `job_kinds.py` (found by JobsConfig.ready), so this package names no app."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from defectlab.jobs.context import JobContext

DEFAULT_QUEUE = "celery"  # Celery's default queue, which every worker listens on unless told otherwise

JobFunction = Callable[["JobContext"], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    name: str
    function: JobFunction
    idempotent: bool  # safe to run again from the start after a lost worker: the sweep queues it again
    queue: str


KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, idempotent: bool = False, queue: str = DEFAULT_QUEUE
) -> Callable[[JobFunction], JobFunction]:
    """Register `function` as the job kind `name`. It gets a JobContext and returns the job's result (JSON).

    `idempotent`: running it again after a worker died half-way gives the same outcome as one complete run (it
    stores complete results only, or finds what an earlier run finished). Only idempotent kinds are re-run by
    the recovery sweep; others are marked failed when their worker is lost."""

    def register(function: JobFunction) -> JobFunction:
        known = KINDS.get(name)
        if known is not None and known.function is not function:
            raise ImproperlyConfigured(f"Two functions are registered as the job kind {name!r}.")
        KINDS[name] = JobKind(name=name, function=function, idempotent=idempotent, queue=queue)
        return function

    return register


def job_kind_get(name: str) -> JobKind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"No job kind named {name!r} is registered; known: {', '.join(sorted(KINDS))}.") from None
