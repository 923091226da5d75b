"""Several hub workers never fire an occurrence twice: the database decides, on SQLite and PostgreSQL."""

import json
import os
import secrets
import subprocess
import sys
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.db import connection

from factories import HomeFactory, LightFactory, RoomFactory
from lamplighter.automations.models import ScheduleRun
from lamplighter.automations.services import ScheduleSpec, schedule_create, schedule_fire, schedules_run_due

DUE = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)  # Monday 07:00 in Paris
POSTGRES = os.environ.get("LAMPLIGHTER_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[4]


def make_schedules(count: int) -> list:  # type: ignore[no-untyped-def]
    home = HomeFactory(timezone="Europe/Paris")
    room = RoomFactory(home=home)
    lights = []
    for index in range(count):
        light = LightFactory(room=room)
        spec = ScheduleSpec(name=f"S{index}", target="light", target_id=light.pk, time_of_day=time(7, 0))
        schedule_create(home=home, spec=spec, now=DUE - timedelta(days=1))
        lights.append(light)
    return lights


@pytest.mark.django_db
def test_the_unique_run_row_refuses_a_second_claim() -> None:
    [light] = make_schedules(1)
    schedule = light.room.home.schedules.get()
    assert schedule_fire(schedule=schedule, due_at=DUE, now=DUE) is not None
    # A second worker that computed the same occurrence before the first committed:
    assert schedule_fire(schedule=schedule, due_at=DUE, now=DUE) is None
    light.refresh_from_db()
    assert light.desired_version == 2
    assert ScheduleRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_threads_on_sqlite_fire_each_occurrence_once() -> None:
    lights = make_schedules(8)
    barrier = threading.Barrier(2)
    fired: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            fired.append(len(schedules_run_due(now=DUE + timedelta(seconds=2))))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(fired) == 8
    assert ScheduleRun.objects.count() == 8
    for light in lights:
        light.refresh_from_db()
        assert light.desired_version == 2


def _postgres_reachable() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@pytest.mark.skipif(not _postgres_reachable(), reason="PostgreSQL is not reachable")
def test_two_workers_on_postgresql_fire_each_occurrence_once(tmp_path: Path) -> None:
    import psycopg

    name = "lamplighter_race_" + secrets.token_hex(4)
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        env = {
            **os.environ,
            "DATABASE_URL": POSTGRES.rsplit("/", 1)[0] + "/" + name,
            "LAMPLIGHTER_DATA_DIR": str(tmp_path),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "hub"), str(ROOT)]),
            "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        }
        script = Path(__file__).with_name("race_workers.py")
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=90, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outcome = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert outcome["vendor"] == "postgresql"
    assert sum(outcome["fired_per_worker"]) == 12  # each of the 12 occurrences fired by one worker
    assert outcome["run_rows"] == 12
    assert outcome["versions"] == [2]  # every light switched exactly once
    assert sorted(outcome["leases"]) == [False, True]  # one bridge leader
