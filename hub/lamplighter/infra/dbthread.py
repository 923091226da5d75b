"""ORM work from the event loop, in the database thread, with one plain executor hand-over.

The hot paths (a token's light switch, a batch of state reports, a batch of socket calls)
each cross from the loop to the thread Channels' database_sync_to_async uses. That wrapper
builds a SyncToAsync per call and routes through asgiref's thread-sensitivity machinery:
~150 µs per crossing on the 2-core benchmark machine, against ~100 µs for the executor
hand-over itself, and a p99 of ~500 µs against ~180 (bench/README.md). run() does what it does
for these callers, no more: the same single thread (so SQLite's connection and its writes stay
in one place), old connections closed before and after as Channels does, the context copied.
Wherever asgiref would pick another thread (a ThreadSensitiveContext), the call goes through
database_sync_to_async unchanged; under async_to_sync (a sync caller, the test client) it runs
in the caller's thread, its connection left to the caller. The hub's ASGI handler
(lamplighter.asgi) gives requests no thread of their own, so its views hand over here too.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from channels.db import database_sync_to_async
from django.db import close_old_connections

T = TypeVar("T")


async def run(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """function(*args, **kwargs) in the database thread; its result or its exception."""
    loop = asyncio.get_running_loop()
    if under_sync_caller():
        # Under async_to_sync (a sync caller such as the test client): the work runs in the
        # caller's thread, whose connection and transaction are the caller's, left open.
        return await sync_to_async(function)(*args, **kwargs)
    if not _plain_server_loop(loop):
        return await database_sync_to_async(function)(*args, **kwargs)  # type: ignore[no-any-return]
    context = contextvars.copy_context()
    call = functools.partial(context.run, _with_fresh_connections, function, args, kwargs)
    return await loop.run_in_executor(SyncToAsync.single_thread_executor, call)


def under_sync_caller() -> bool:
    """Whether this coroutine runs under async_to_sync (a sync caller such as the test client),
    whose thread holds the connection, and maybe a transaction, its reads must see."""
    return getattr(AsyncToSync.executors, "current", None) is not None


def _plain_server_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether asgiref would run thread-sensitive work in its single_thread_executor here
    (the server's own loop, outside any request context and any async_to_sync)."""
    return (
        getattr(AsyncToSync.executors, "current", None) is None
        and SyncToAsync.thread_sensitive_context.get(None) is None
        and loop not in AsyncToSync.loop_thread_executors
    )


def _with_fresh_connections(function: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()
