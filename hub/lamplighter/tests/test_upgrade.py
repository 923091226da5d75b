"""Upgrades: a database of the first release (the 0001 migration of every app) with a home in
it migrates to the current code with nothing lost; the hub refuses to start before that, naming
the command; a device stays on through the upgrade and the restarts, and converges, and so does
the real firmware (as the simulator) through a restart of the upgraded hub.
"""

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dj_database_url
import httpx
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.utils import timezone

from lamplighter.backup.snapshot import add_sqlite_alias, drop_alias
from lamplighter.infra.secret_hashing import new_secret, secret_hash
from lamplighter.tests.test_scale import HUB_DIR, PG_HOST, PG_PORT, Worker, _pg_connect
from lamplighter.tools.protocol_client import ProtocolDevice
from lamplighter.tools.simulator import free_port
from simulated import SimulatedDevice

pytestmark = pytest.mark.timeout(180)

# The first release's schema: every app of the hub at its first migration.
HUB_APPS = ("accounts", "homes", "devices", "lights", "automations", "ota", "mqtt_bridge")
WAIT = 30
FIRMWARE_WAIT = 60  # the firmware's reconnect backoff (full jitter, doubling from 1 s)


def _alias(database_url: str, path: Path) -> str:
    """A database alias of this thread: PostgreSQL at `database_url`, else SQLite at `path`."""
    if not database_url:
        return add_sqlite_alias(path)
    alias = f"upgrade-{uuid.uuid4().hex[:8]}"
    settings_dict = connections.configure_settings({"default": dj_database_url.parse(database_url)})[
        "default"
    ]
    connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    return alias


def build_first_release(database_url: str, path: Path) -> dict[str, Any]:
    """A database (PostgreSQL at `database_url`, else SQLite at `path`) with the first release's
    schema and a home, written with that schema's models; returns the credentials a client and
    the devices use."""
    alias = _alias(database_url, path)
    try:
        executor = MigrationExecutor(connections[alias])
        graph = executor.loader.graph
        targets = [(app, "0001_initial") for app in HUB_APPS] + [
            node for node in graph.leaf_nodes() if node[0] not in HUB_APPS
        ]
        executor.migrate(targets)
        executor.loader.build_graph()
        pending = [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(graph.leaf_nodes())]
        old = executor.loader.project_state(targets).apps

        def model(label: str) -> Any:
            return old.get_model(*label.split(".")).objects.using(alias)

        now = timezone.now()
        owner = model("auth.User").create(username="first-owner", password=make_password(new_secret()))
        home = model("homes.Home").create(name="First home", created_at=now)
        model("homes.Membership").create(home=home, user=owner, role="owner")
        room = model("homes.Room").create(home=home, name="Hall")
        secret = new_secret()
        device = model("devices.Device").create(
            home=home, name="hall", device_id="dev-first", secret_hash=secret_hash(secret), created_at=now
        )
        light = model("lights.Light").create(
            room=room, device=device, name="Ceiling", desired_on=True, desired_version=3, desired_at=now
        )
        # A second device, for the firmware itself (simulated.SimulatedDevice) after the migration.
        firmware_secret = new_secret()
        firmware_device = model("devices.Device").create(
            home=home,
            name="lamp",
            device_id="dev-firmware",
            secret_hash=secret_hash(firmware_secret),
            created_at=now,
        )
        lamp = model("lights.Light").create(
            room=room, device=firmware_device, name="Lamp", desired_on=True, desired_version=2, desired_at=now
        )
        scene = model("automations.Scene").create(home=home, name="Night", created_at=now)
        model("automations.SceneLight").create(scene=scene, light=light, on=False)
        model("automations.Schedule").create(
            home=home,
            name="Lights out",
            target="scene",
            scene=scene,
            action="on",
            trigger="time",
            time_of_day="23:00",
            weekdays=127,
            offset_minutes=0,
            armed_at=now,
            created_at=now,
        )
        token = "llt_" + new_secret()
        model("accounts.ApiToken").create(
            user=owner, name="first", prefix=token[:8], token_hash=secret_hash(token), created_at=now
        )
        return {
            "token": token,
            "secret": secret,
            "light_id": light.pk,
            "scene_id": scene.pk,
            "firmware_secret": firmware_secret,
            "lamp_id": lamp.pk,
            "pending": pending,
        }
    finally:
        drop_alias(alias)


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "LAMPLIGHTER_DATA_DIR": str(data_dir),
        "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Empty for SQLite (in the data directory); else a fresh PostgreSQL database, dropped afterwards."""
    if request.param == "sqlite":
        yield ""
        return
    name = f"lamplighter_issue16_upgrade_{uuid.uuid4().hex[:8]}"
    with _pg_connect() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        user = connection.info.user
    yield f"postgres://{user}@{PG_HOST}:{PG_PORT}/{name}"
    with _pg_connect() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_a_first_release_database_upgrades_with_a_device_running_through_it(
    tmp_path: Path, django_db_blocker: Any, database_url: str
) -> None:
    with django_db_blocker.unblock():
        first = await asyncio.to_thread(build_first_release, database_url, tmp_path / "lamplighter.sqlite3")
    env = _env(tmp_path, database_url)
    hub = Worker(free_port(), env, tmp_path / "hub.log")
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "lamplighter.cli.main", "serve", "--port", str(hub.port)],
        cwd=HUB_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert first["pending"], "the current code has migrations beyond the first release's"
    assert "run `lamplighter migrate`" in refused.stderr and first["pending"][0] in refused.stderr

    device = ProtocolDevice("dev-first", first["secret"], [("Hall", "Ceiling")], [hub.ws_url]).start()
    stopping: list[SimulatedDevice] = []
    try:
        migrated = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "lamplighter.cli.main", "migrate", "-v", "0"],
            cwd=HUB_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        await asyncio.to_thread(hub.start)
        await asyncio.wait_for(device.welcomed.wait(), WAIT)
        await _until(
            lambda: device.state[("Hall", "Ceiling")] == (True, 3), "the device runs the stored state"
        )

        headers = {"Authorization": f"Bearer {first['token']}"}
        async with httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=30) as client:
            lights = (await client.get("/api/v1/lights")).json()
            assert [(light["id"], light["name"], light["room"], light["device"]) for light in lights] == [
                (first["light_id"], "Ceiling", "Hall", "dev-first"),
                (first["lamp_id"], "Lamp", "Hall", "dev-firmware"),
            ]
            [home] = (await client.get("/api/v1/homes")).json()
            assert home["name"] == "First home" and home["timezone"] == "UTC"  # a later migration's default
            [scene] = (await client.get("/api/v1/scenes")).json()
            assert scene["name"] == "Night" and [(e["light_id"], e["on"]) for e in scene["lights"]] == [
                (first["light_id"], False)
            ]
            [schedule] = (await client.get("/api/v1/schedules")).json()
            assert (schedule["name"], schedule["target"], schedule["target_id"]) == (
                "Lights out",
                "scene",
                first["scene_id"],
            )

            # The firmware, on a device of its own, joins the upgraded hub.
            firmware = SimulatedDevice(
                tmp_path / "dev-firmware",
                device_id="dev-firmware",
                secret=first["firmware_secret"],
                hubs=[hub.url],
                lights=[{"room": "Hall", "light": "Lamp", "pin": 2}],
            ).start()
            stopping.append(firmware)
            await _until(lambda: _held(firmware) == (True, 2), "the firmware runs the stored state")

            # A hub restart on the migrated database (the next upgrade's): both devices come back.
            connections_before = device.connections
            await asyncio.to_thread(hub.stop)
            await _until(lambda: not device.welcomed.is_set(), "the hub gone")
            await asyncio.to_thread(hub.start)
            await _until(
                lambda: device.connections > connections_before and device.welcomed.is_set(), "reconnect"
            )

            async def firmware_online() -> bool:
                devices = {d["device_id"]: d for d in (await client.get("/api/v1/devices")).json()}
                return bool(devices["dev-firmware"]["online"])

            deadline = time.monotonic() + FIRMWARE_WAIT  # its backoff grows while the hub is away
            while not await firmware_online():
                assert time.monotonic() < deadline, "the firmware did not reconnect"
                await asyncio.sleep(0.2)
            response = await client.post(f"/api/v1/lights/{first['lamp_id']}/state", json={"on": False})
            assert response.status_code == 202
            await _until(lambda: _held(firmware) == (False, 3), "the firmware applies a change")
            response = await client.post(f"/api/v1/lights/{first['light_id']}/state", json={"on": False})
            assert response.status_code == 202
            await _until(
                lambda: device.state[("Hall", "Ceiling")] == (False, 4), "the device applies a change"
            )

            async def confirmed() -> bool:
                return not (await client.get(f"/api/v1/lights/{first['light_id']}")).json()["pending"]

            deadline = time.monotonic() + WAIT
            while not await confirmed():
                assert time.monotonic() < deadline, "the change was not confirmed"
                await asyncio.sleep(0.2)
    finally:
        await device.stop()
        for firmware in stopping:
            await asyncio.to_thread(firmware.stop)
        hub.stop()


def _held(firmware: SimulatedDevice) -> tuple[bool, int]:
    """(on, version) of the firmware's one light, as its store holds it."""
    entry = firmware.light("Hall", "Lamp")
    return bool(entry["state"]["on"]), int(entry["version"])


async def _until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
