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

_batches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch]" = weakref.WeakKeyDictionary()


class _Batch:
    def __init__(self) -> None:
        self.waiting: list[
            tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], asyncio.Future[Any]]
        ] = []
        self.task: asyncio.Task[None] | None = None

    async def drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH_MAX], self.waiting[BATCH_MAX:]
            try:
                outcomes = await dbthread.run(_run_all, [(f, a, k) for f, a, k, _ in batch])
            except BaseException as error:  # the transaction itself failed: every call did
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (*_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _run_all(
    calls: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]],
) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    # The batch's events (a device online per connect) go out together once it has committed.
    with realtime.sends_gathered(), transaction.atomic():
        for function, args, kwargs in calls:
            try:
                with transaction.atomic():
                    outcomes.append((True, function(*args, **kwargs)))
            except Exception as error:  # noqa: BLE001 - handed to that call's caller
                outcomes.append((False, error))
    return outcomes


async def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """database_sync_to_async(function)(*args, **kwargs), batched with the calls of other sockets."""
    loop = asyncio.get_running_loop()
    batch = _batches.get(loop)
    if batch is None:
        batch = _batches[loop] = _Batch()
    future: asyncio.Future[Any] = loop.create_future()
    batch.waiting.append((function, args, kwargs, future))
    if batch.task is None or batch.task.done():
        batch.task = loop.create_task(batch.drain())
    return await future
