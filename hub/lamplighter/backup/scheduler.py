"""Scheduled backups: a task of the server, like the schedules' scheduler (lamplighter.serving.lifespan)."""

import asyncio
import logging
from pathlib import Path

from django.conf import settings
from django.db import connections

from lamplighter.backup.services import backup_scheduled_run

logger = logging.getLogger(__name__)

MAX_CHECK_SECONDS = 600  # how often, at most, the task looks whether a backup is due


async def run_backups_forever() -> None:
    """Write a backup whenever the newest is LAMPLIGHTER_BACKUP_INTERVAL old; runs until cancelled.

    The first check comes one check period after start (a hub restarting in a loop does not
    back up on each start). Backups are written in a thread of their own: the database thread
    the hub's requests share stays free.
    """
    while True:
        interval = settings.LAMPLIGHTER_BACKUP_INTERVAL
        await asyncio.sleep(min(max(interval, 1), MAX_CHECK_SECONDS))
        if interval <= 0:
            continue
        try:
            written = await asyncio.to_thread(_run_once)
        except Exception:  # noqa: BLE001 - a failed backup must not stop the next one
            logger.exception("scheduled backup failed")
            continue
        if written is not None:
            logger.info("scheduled backup written: %s", written)


def _run_once() -> Path | None:
    try:
        return backup_scheduled_run()
    finally:
        connections.close_all()  # this thread's connections: the next run may get another thread
