"""Database work of many sockets, done in one crossing to the database thread.

Every ORM call of a consumer runs in the one shared sync thread (database_sync_to_async is
thread-sensitive), one call at a time, each its own crossing from the event loop and back and
its own transaction. When 10,000 devices connect at once, that is ~30,000 crossings and
~20,000 commits (authenticate, record the socket, take in the hello) queued one by one.

run() queues a call; while the thread is busy with one batch, the calls arriving meanwhile wait
and go next, together: one crossing and one transaction for the lot, each call in a savepoint
of its own, so one that fails (and is rolled back) does not take the others with it. A lone
call goes at once, as before, at the cost of one savepoint. What the calls publish goes out
together when the batch has committed (realtime.sends_gathered).
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from django.db import transaction

from lamplighter.infra import dbthread, realtime

BATCH_MAX = 200  # calls per crossing: bounds how long one batch holds the database thread

Outcome = tuple[bool, Any]  # (True, the result) or (False, the exception)


class _Queue:
    def __init__(self) -> None:
        self.waiting: list[tuple[Any, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None


class Gatherer:
    """Items of many sockets written in one crossing to the database thread.

    While the thread writes one batch, the items arriving meanwhile wait and go next, together;
    a lone item goes at once. write_many(items) runs in the database thread and gives one
    Outcome per item, in order; if it raises, every item of that batch fails with the error.
    """

    def __init__(self, write_many: Callable[[list[Any]], list[Outcome]], *, limit: int) -> None:
        self.write_many = write_many
        self.limit = limit
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(self, item: Any) -> Any:
        """Write item with the others waiting; its result, or its exception raised."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[Any] = loop.create_future()
        queue.waiting.append((item, future))
        if queue.task is None or queue.task.done():
            queue.task = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _Queue) -> None:
        while queue.waiting:
            batch, queue.waiting = queue.waiting[: self.limit], queue.waiting[self.limit :]
            try:
                outcomes = await dbthread.run(self.write_many, [item for item, _ in batch])
            except BaseException as error:  # the write itself failed: every item did
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _run_all(calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    # The batch's events (a device online per connect) go out together once it has committed.
    with realtime.sends_gathered(), transaction.atomic():
        for function, args, kwargs in calls:
            try:
                with transaction.atomic():
                    outcomes.append((True, function(*args, **kwargs)))
            except Exception as error:  # noqa: BLE001 - handed to that call's caller
                outcomes.append((False, error))
    return outcomes


_calls = Gatherer(lambda calls: _run_all(calls), limit=BATCH_MAX)  # looked up per batch (tests count them)


async def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """database_sync_to_async(function)(*args, **kwargs), batched with the calls of other sockets."""
    return await _calls.submit((function, args, kwargs))
