"""The adaptive planner task: sends adaptive lights their next fades (services decide; this only loops).

It looks at the lights when the earliest planned fade ends, when a change asks it to (a light
switched to adaptive, resumed, or changed by hand), and at least every
LAMPLIGHTER_ADAPTIVE_REPLAN_SECONDS. Every worker runs it; a fade is claimed in the database
before it is sent, so none is sent twice.
"""

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from lamplighter.adaptive import hooks, services

logger = logging.getLogger(__name__)


async def run_adaptive_forever() -> None:
    """Plan and send adaptive fades until cancelled."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def wake_up() -> None:
        loop.call_soon_threadsafe(wake.set)

    hooks.attach(wake_up)
    try:
        while True:
            replan = max(1, settings.LAMPLIGHTER_ADAPTIVE_REPLAN_SECONDS)
            delay = float(replan)
            wake.clear()  # before looking: a change during the look wakes the next one
            try:
                advance = await database_sync_to_async(services.adaptive_lights_advance)(now=timezone.now())
                if advance.next_at is not None:
                    delay = min(delay, max(0.05, (advance.next_at - timezone.now()).total_seconds()))
            except Exception:  # noqa: BLE001 - a failed look must not stop the next one
                logger.exception("adaptive planner failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
    finally:
        hooks.attach(None)
