"""Background work that repeats for the life of the server: one loop for every periodic task."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)


async def run_periodically(
    work: Callable[[], Any],
    *,
    seconds: Callable[[], float],
    what: str,
    at_start: bool = False,
    own_thread: bool = False,
) -> None:
    """Call work() every seconds() (read again each round) until cancelled.

    at_start: the first call comes at once, not after the first wait (catching up after a
    restart). own_thread: work runs in a thread of its own (a long backup), not the database
    thread that requests and sockets share. A failed round is logged; the next one still runs.
    """
    call = (lambda: asyncio.to_thread(work)) if own_thread else database_sync_to_async(work)
    first = True
    while True:
        if not (first and at_start):
            await asyncio.sleep(seconds())
        first = False
        try:
            await call()
        except Exception:  # noqa: BLE001 - a failed round must not stop the next one
            logger.exception("%s failed", what)
