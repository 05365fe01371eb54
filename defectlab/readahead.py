"""Reading the next batch while the caller works on the current one, on a second PostgreSQL connection that sees
the caller's own snapshot.

A long read-then-write loop (a freeze reads three million annotations and writes a line for each) runs the
database and Python one after the other: while one works the other waits, and on a two-core host one core
idles. Here threads read the next batches, each on its own connection, while the caller handles the current
one, and their queries see exactly what the caller's transaction sees: it exports its snapshot
(pg_export_snapshot) and each thread's REPEATABLE READ transaction adopts it (SET TRANSACTION SNAPSHOT).

It needs the caller to be in an outermost REPEATABLE READ transaction on PostgreSQL that has written nothing
(the thread could not see the caller's own uncommitted rows), e.g. a freeze run by a worker or the command line.
Anywhere else (SQLite, a transaction opened by a test or an outer caller) the batches are read in the caller's
thread, in turn: the same results, without the overlap.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db import connection, transaction

Request = TypeVar("Request")
Result = TypeVar("Result")
_DONE = object()


def read_ahead(
    requests: Iterable[Request], read: Callable[[Request], Result], *, is_shareable: bool, readers: int = 2
) -> Iterator[tuple[Request, Result]]:
    """(request, read(request)) for each request, in order. With `is_shareable` (the caller's transaction
    qualifies, see the module docstring), `readers` threads read the next requests, each on its own connection in
    the caller's snapshot, while the caller handles the current one: the database works on as many cores."""
    if not (is_shareable and connection.vendor == "postgresql"):
        for request in requests:
            yield request, read(request)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
    lanes: list[tuple[queue.Queue[Any], queue.Queue[Any]]] = [
        (queue.Queue(), queue.Queue()) for _ in range(readers)
    ]  # (asked, answers) of each reader
    threads = [
        threading.Thread(target=_reader, args=(snapshot, read, asked, answers), daemon=True) for asked, answers in lanes
    ]
    for thread in threads:
        thread.start()
    try:
        pending: list[tuple[Request, queue.Queue]] = []
        for number, request in enumerate(requests):
            asked, answers = lanes[number % readers]  # request k goes to reader k mod n: answers come in order
            asked.put(request)
            pending.append((request, answers))
            if len(pending) > readers:  # every reader busy: hand the oldest over
                done, answers = pending.pop(0)
                yield done, _answer(answers)
        while pending:
            done, answers = pending.pop(0)
            yield done, _answer(answers)
    finally:
        for asked, _ in lanes:
            asked.put(_DONE)
        for thread in threads:
            thread.join()


def _answer(answers: "queue.Queue[Any]") -> Any:
    answer = answers.get()
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _reader(snapshot: str, read: Callable, asked: queue.Queue, answers: queue.Queue) -> None:
    """The thread: its own connection (Django's are per thread), one transaction in the caller's snapshot."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            while (request := asked.get()) is not _DONE:
                answers.put(read(request))
    except BaseException as error:  # noqa: BLE001 - handed to the caller's thread, which raises it
        answers.put(error)
        while asked.get() is not _DONE:  # let the caller's loop finish asking
            pass
    finally:
        connection.close()
