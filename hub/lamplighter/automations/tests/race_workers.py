"""Two hub "workers" (threads, each with its own database connection) racing on one database.

Run as a script by test_workers.py with DATABASE_URL pointing at a fresh PostgreSQL database;
prints what each worker did as JSON. Not a test module itself (no test_ prefix).
"""

import json
import os
import threading
from datetime import UTC, datetime, time, timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

DUE = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)
SCHEDULES = 12


def race(target, workers: int = 2) -> list:  # type: ignore[no-untyped-def]
    """Start `workers` threads that call target() at the same moment; return their results."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def main() -> None:
    """Migrate, make the data, race the scheduler and the bridge lease, print the outcome."""
    from lamplighter.automations.models import ScheduleRun
    from lamplighter.automations.services import ScheduleSpec, schedule_create, schedules_run_due
    from lamplighter.homes.models import Home, Room
    from lamplighter.lights.models import Light
    from lamplighter.mqtt_bridge.services import bridge_lease_acquire

    call_command("migrate", verbosity=0)
    home = Home.objects.create(name="Race", timezone="Europe/Paris")
    room = Room.objects.create(home=home, name="Hall")
    for index in range(SCHEDULES):
        light = Light.objects.create(room=room, name=f"Lamp {index}")
        spec = ScheduleSpec(name=f"S{index}", target="light", target_id=light.pk, time_of_day=time(7, 0))
        schedule_create(home=home, spec=spec, now=DUE - timedelta(days=1))
    connection.close()

    fired = race(lambda: len(schedules_run_due(now=DUE + timedelta(seconds=2))))
    holders = iter(["worker-a", "worker-b"])
    lock = threading.Lock()

    def take_lease() -> bool:
        with lock:
            holder = next(holders)
        return bridge_lease_acquire(holder=holder, seconds=30)

    leases = race(take_lease)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "fired_per_worker": fired,
                "run_rows": ScheduleRun.objects.count(),
                "versions": sorted(set(Light.objects.values_list("desired_version", flat=True))),
                "leases": leases,
                "outcomes": sorted(set(ScheduleRun.objects.values_list("outcome", "detail"))),
            }
        )
    )


if __name__ == "__main__":
    main()
