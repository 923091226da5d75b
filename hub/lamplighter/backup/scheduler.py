"""Scheduled backups: a task of the server, like the schedules' scheduler (lamplighter.serving.lifespan)."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import connections

from lamplighter.backup.services import backup_scheduled_run
from lamplighter.infra.periodic import run_periodically

logger = logging.getLogger(__name__)

MAX_CHECK_SECONDS = 600  # how often, at most, the task looks whether a backup is due


async def run_backups_forever() -> None:
    """Write a backup whenever the newest is LAMPLIGHTER_BACKUP_INTERVAL old; runs until cancelled.

    The first check comes one check period after start (a hub restarting in a loop does not
    back up on each start). Backups are written in a thread of their own: the database thread
    the hub's requests share stays free.
    """
    await run_periodically(
        _run_once,
        seconds=lambda: min(max(settings.LAMPLIGHTER_BACKUP_INTERVAL, 1), MAX_CHECK_SECONDS),
        what="scheduled backup",
        own_thread=True,
    )


def _run_once() -> Path | None:
    if settings.LAMPLIGHTER_BACKUP_INTERVAL <= 0:
        return None
    try:
        written = backup_scheduled_run()
    finally:
        connections.close_all()  # this thread's connections: the next run may get another thread
    if written is not None:
        logger.info("scheduled backup written: %s", written)
    return written
