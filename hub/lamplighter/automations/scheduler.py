"""The scheduler task: every tick, fire the schedules that are due (services decide; this only loops)."""

from django.conf import settings

from lamplighter.automations import services
from lamplighter.infra.periodic import run_periodically


async def run_schedules_forever() -> None:
    """Fire due schedules now (catching up after a restart), then every LAMPLIGHTER_SCHEDULE_TICK seconds."""
    await run_periodically(
        services.schedules_run_due,
        seconds=lambda: max(1, settings.LAMPLIGHTER_SCHEDULE_TICK),
        what="scheduler tick",
        at_start=True,
    )
