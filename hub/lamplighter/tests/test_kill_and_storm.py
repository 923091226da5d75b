"""The hub process SIGKILLed mid-burst, and a reconnect storm after a restart (real processes).

One `lamplighter serve` on the embedded defaults (SQLite, in-memory channel layer), devices
that speak the protocol over real sockets, changes through the REST API with a client that
retries what the dead hub did not answer, as any client would.
"""

import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lamplighter.tests.test_scale import HUB_DIR, Worker
from lamplighter.tools.protocol_client import ProtocolDevice
from lamplighter.tools.simulator import free_port

BURST_DEVICES = 100
CHANGES_PER_LIGHT = 10  # 1,000 changes in all
STORM_DEVICES = 2000
STORM_BUDGET_SECONDS = 15


def _raise_open_files_limit() -> None:
    """Thousands of sockets on each side: lift the soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _prepare(tmp: Path, devices: int, prefix: str) -> tuple[dict[str, str], dict[str, Any]]:
    env = {
        **os.environ,
        "LAMPLIGHTER_DATA_DIR": str(tmp),
        "LAMPLIGHTER_SECRET_KEY": "kill-test-" + uuid.uuid4().hex,
        "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    subprocess.run(
        [sys.executable, "-m", "lamplighter.cli.main", "migrate", "-v", "0"], cwd=HUB_DIR, env=env, check=True
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "lamplighter.tools.loadseed", "--devices", str(devices), "--prefix", prefix],
        cwd=HUB_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    return env, json.loads(seeded.stdout)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Any]:
    _raise_open_files_limit()
    workers: list[Worker] = []

    def start(devices: int, prefix: str) -> tuple[Worker, dict[str, Any]]:
        env, seed = _prepare(tmp_path, devices, prefix)
        worker = Worker(free_port(), env, tmp_path / "hub.log")
        worker.start()
        workers.append(worker)
        return worker, seed

    yield start
    for worker in workers:
        worker.stop()


async def test_sigkill_during_a_burst_loses_nothing_and_reorders_nothing(hub: Any) -> None:
    worker, seed = hub(BURST_DEVICES, "burst")
    applied: dict[str, list[int]] = {}

    def record(device: ProtocolDevice, entry: dict[str, Any], _at: float) -> None:
        applied.setdefault(device.device_id, []).append(entry["version"])

    devices = [
        ProtocolDevice(
            d["device_id"], d["secret"], [(d["room"], d["light"])], [worker.ws_url], on_applied=record
        ).start()
        for d in seed["devices"]
    ]
    await asyncio.wait_for(asyncio.gather(*(d.welcomed.wait() for d in devices)), 60)
    acknowledged = 0
    expected: dict[int, bool] = {}
    killed = asyncio.Event()

    async def change_light(client: httpx.AsyncClient, light_id: int, index: int) -> None:
        nonlocal acknowledged
        for step in range(CHANGES_PER_LIGHT):
            on = (step + index) % 2 == 0
            deadline = time.monotonic() + 90
            while True:  # a client retries what a dead hub did not answer
                try:
                    response = await client.post(f"/api/v1/lights/{light_id}/state", json={"on": on})
                    if response.status_code == 202:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the hub never came back"
                await asyncio.sleep(0.2)
            expected[light_id] = on
            acknowledged += 1

    async def kill_midway() -> None:
        while acknowledged < BURST_DEVICES * CHANGES_PER_LIGHT * 0.3:
            await asyncio.sleep(0.01)
        worker.kill()
        killed.set()
        await asyncio.sleep(1)
        await asyncio.to_thread(worker.start)

    limits = httpx.Limits(max_connections=20)
    headers = {"Authorization": f"Bearer {seed['token']}"}
    async with httpx.AsyncClient(base_url=worker.url, headers=headers, timeout=10, limits=limits) as client:
        await asyncio.gather(
            kill_midway(), *(change_light(client, d["light_id"], i) for i, d in enumerate(seed["devices"]))
        )
        assert killed.is_set()
        assert acknowledged == BURST_DEVICES * CHANGES_PER_LIGHT

        async def converged() -> bool:
            lights = {light["id"]: light for light in (await client.get("/api/v1/lights")).json()}
            for device, entry in zip(devices, seed["devices"], strict=True):
                light = lights[entry["light_id"]]
                held = device.state[(entry["room"], entry["light"])]
                if light["desired_on"] != expected[entry["light_id"]] or held != (
                    light["desired_on"],
                    light["desired_version"],
                ):
                    return False
                if light["pending"]:
                    return False
            return True

        deadline = time.monotonic() + 60
        while not await converged():
            assert time.monotonic() < deadline, "lights did not converge after the restart"
            await asyncio.sleep(0.5)
    for device in devices:
        await device.stop()
    for device_id, versions in applied.items():
        assert versions == sorted(set(versions)), f"{device_id} applied out of order or twice: {versions}"


async def test_reconnect_storm_after_a_restart(hub: Any) -> None:
    worker, seed = hub(STORM_DEVICES, "storm")
    devices = [
        ProtocolDevice(
            d["device_id"], d["secret"], [(d["room"], d["light"])], [worker.ws_url], heartbeat=False
        ).start()
        for d in seed["devices"]
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(d.welcomed.wait() for d in devices)), 180)
        worker.kill()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(worker.start)
        started = time.monotonic()
        slowest_page = 0.0
        headers = {"Authorization": f"Bearer {seed['token']}"}
        async with httpx.AsyncClient(base_url=worker.url, headers=headers, timeout=30) as client:
            while not all(d.welcomed.is_set() for d in devices):
                assert time.monotonic() - started < STORM_BUDGET_SECONDS, (
                    f"{sum(not d.welcomed.is_set() for d in devices)} devices still away"
                )
                before = time.monotonic()
                assert (await client.get("/login/")).status_code == 200  # the dashboard answers meanwhile
                slowest_page = max(slowest_page, time.monotonic() - before)
                await asyncio.sleep(0.25)
        took = time.monotonic() - started
        print(
            f"storm: {STORM_DEVICES} devices back in {took:.1f} s; slowest dashboard page {slowest_page:.2f} s"
        )
        assert slowest_page < 5
    finally:
        for device in devices:
            await device.stop()
