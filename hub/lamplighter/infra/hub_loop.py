"""The event loop that runs the hub's sockets, and handing work to it from any thread.

The ASGI lifespan attaches the server's loop. Sync code (services in the database thread, a
request's worker thread) then starts background work there without waiting for it: LAN pushes
to devices, OTA image pushes, live events. With no hub loop (the CLI, tests without a server),
background work runs at once, synchronously.
"""

import asyncio
import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
_tasks: set[asyncio.Task[Any]] = set()  # running background tasks (a task only weakly referenced can vanish)


def attach(loop: asyncio.AbstractEventLoop | None) -> None:
    """Tell the hub which event loop runs its sockets (None when the hub stops)."""
    global _loop
    with _lock:
        _loop = loop


def running() -> asyncio.AbstractEventLoop | None:
    """The attached loop while it runs, else None."""
    loop = _loop
    return loop if loop is not None and loop.is_running() else None


def call_soon(callback: Callable[..., None], *args: Any) -> bool:
    """Run callback(*args) on the hub loop soon (FIFO per calling thread); False when there is none."""
    loop = running()
    if loop is None:
        return False
    loop.call_soon_threadsafe(callback, *args)
    return True


def start_task(make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """Run the coroutine make() as a background task on the hub loop, or now when there is none.

    The task starts in a fresh context: the caller's (a request thread inside async_to_sync)
    would tie its database calls to that request's executor, which is gone once it ends.
    """
    with _lock:
        loop = _loop
    if loop is None or loop.is_closed():
        asyncio.run(make())
        return

    def start() -> None:
        task = loop.create_task(make())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    loop.call_soon_threadsafe(start, context=contextvars.Context())
