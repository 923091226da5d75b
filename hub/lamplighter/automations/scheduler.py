"""The scheduler task: every tick, fire the schedules that are due (services decide; this only loops)."""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from lamplighter.automations import services

logger = logging.getLogger(__name__)


async def run_schedules_forever() -> None:
    """Fire due schedules now (catching up after a restart), then every LAMPLIGHTER_SCHEDULE_TICK seconds."""
    interval = max(1, settings.LAMPLIGHTER_SCHEDULE_TICK)
    while True:
        try:
            await database_sync_to_async(services.schedules_run_due)()
        except Exception:  # noqa: BLE001 - a failed tick must not stop the next one
            logger.exception("scheduler tick failed")
        await asyncio.sleep(interval)
