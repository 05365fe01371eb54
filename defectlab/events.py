"""Cross-app events: the core declares what it emits, other apps subscribe Celery tasks to it.

`annotation/` imports no other app, and nothing imports `assist/`, yet QA must hear that an image was
submitted and the assist app that images were ingested. So the emitting app declares an `Event` (its name and
payload fields), consumers subscribe a task in their AppConfig.ready(), and `event_emit` queues every
subscribed task after the transaction commits. Subscribing the task object (not its name by hand) means a
renamed task cannot silently drop an event; `events_check` (a Django system check, and a test) also proves that
the Celery app a worker runs knows every subscribed task.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from django.core import checks
from django.db import transaction


class Task(Protocol):
    """What a subscription needs of a Celery task."""

    name: str


@dataclass(frozen=True)
class Subscription:
    task_name: str
    queue: str | None = None


@dataclass(eq=False)
class Event:
    """One thing the core announces. `fields` are the keyword arguments every handler task takes (JSON values)."""

    name: str
    fields: tuple[str, ...]
    doc: str
    subscriptions: list[Subscription] = field(default_factory=list)

    def subscribe(self, task: Task, *, queue: str | None = None) -> None:
        """Run `task(**payload)` on a worker after each commit that emits this event (idempotent)."""
        subscription = Subscription(task_name=task.name, queue=queue)
        if subscription not in self.subscriptions:
            self.subscriptions.append(subscription)


_EVENTS: dict[str, Event] = {}


def event_declare(name: str, *, fields: Iterable[str], doc: str) -> Event:
    if name in _EVENTS:
        raise ValueError(f"event {name!r} is declared twice")
    event = _EVENTS[name] = Event(name=name, fields=tuple(fields), doc=doc)
    return event


def events_declared() -> list[Event]:
    return list(_EVENTS.values())


Dispatch = Callable[[Subscription, dict[str, Any]], None]


def _send(subscription: Subscription, payload: dict[str, Any]) -> None:
    from defectlab.celery import app  # local: the Celery app reads Django settings

    app.send_task(subscription.task_name, kwargs=payload, queue=subscription.queue)


_dispatch: Dispatch = _send


def event_emit(event: Event, **payload: Any) -> None:
    """Queue every subscriber of `event` once the current transaction commits (at once outside one).
    A missing or unknown payload field is a programming error, raised here rather than on a worker."""
    if set(payload) != set(event.fields):
        raise TypeError(f"event {event.name!r} takes {sorted(event.fields)}, got {sorted(payload)}")
    for subscription in list(event.subscriptions):
        transaction.on_commit(partial(_dispatch, subscription, payload))


def events_dispatch_through(dispatch: Dispatch) -> Dispatch:
    """Route emitted events through `dispatch` instead of the broker (tests that call a handler themselves);
    returns the previous dispatcher so the caller can restore it."""
    global _dispatch
    previous, _dispatch = _dispatch, dispatch
    return previous


def events_check(task_names: Iterable[str]) -> list[str]:
    """Problems with the subscriptions, given the task names the worker's Celery app registers."""
    known = set(task_names)
    return [
        f"event {event.name!r}: subscribed task {subscription.task_name!r} is not registered with the Celery app"
        for event in _EVENTS.values()
        for subscription in event.subscriptions
        if subscription.task_name not in known
    ]


def _celery_task_names() -> list[str]:
    from defectlab.celery import app  # local: the Celery app reads Django settings

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    return list(app.tasks)


_is_checking = False


@checks.register()
def events_system_check(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    # A starting worker runs the system checks while it imports the task modules; importing them again from here
    # would recurse, and the worker's own start proves the modules import.
    global _is_checking
    if _is_checking:
        return []
    _is_checking = True
    try:
        return [checks.Error(problem, id="defectlab.E001") for problem in events_check(_celery_task_names())]
    finally:
        _is_checking = False
