"""Several workers: two real hub processes sharing one PostgreSQL database and one Redis.

Each test talks to the workers only over the network, as devices, dashboards and API
clients do. The module creates a fresh PostgreSQL database (dropped at the end) and uses a
Redis key prefix of its own. Select with `pytest -m scale`.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from lamplighter.infra import realtime
from lamplighter.tools.protocol_client import ProtocolDevice
from lamplighter.tools.simulator import free_port

pytestmark = [pytest.mark.scale, pytest.mark.timeout(240)]

PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
HUB_DIR = Path(__file__).resolve().parents[2]
# Budgets for a loaded 2-core CI machine: generous, but bounded, so a real loss still fails.
HEARTBEAT = 2  # seconds between a device's heartbeats
MISSED = 3  # heartbeats missed before a device is offline: a 6 s budget, not 2 s
WAIT = 30  # seconds any expected event may take


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_connect(dbname: str = "postgres") -> Any:
    import psycopg

    for user in ("postgres", "root"):
        try:
            return psycopg.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=dbname, autocommit=True)
        except psycopg.OperationalError:
            continue
    raise RuntimeError("cannot connect to PostgreSQL as postgres or root")


@dataclass
class Worker:
    """One `lamplighter serve` process."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket base URL."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> None:
        """Start the process and wait until it answers HTTP."""
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lamplighter.cli.main", "serve", "--port", str(self.port), *extra],
            cwd=HUB_DIR,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() also ends `--workers` children
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/login/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, sockets die with the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; then any process of its group still there."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # a worker the supervisor left behind


@dataclass
class Cluster:
    """Two workers on one database and one Redis, and the seeded home."""

    a: Worker
    b: Worker
    seed: dict[str, Any]
    env: dict[str, str]
    devices: list[ProtocolDevice] = field(default_factory=list)

    def api(self, worker: Worker) -> httpx.AsyncClient:
        """An API client of the seeded owner, talking to one worker."""
        return httpx.AsyncClient(
            base_url=worker.url, headers={"Authorization": f"Bearer {self.seed['token']}"}, timeout=10
        )

    def device(self, index: int, *workers: Worker) -> ProtocolDevice:
        """Seeded device `index`, connecting to these workers in order (next one when a socket drops)."""
        entry = self.seed["devices"][index]
        device = ProtocolDevice(
            entry["device_id"],
            entry["secret"],
            [(entry["room"], entry["light"])],
            [worker.ws_url for worker in workers],
        )
        self.devices.append(device)
        return device.start()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A fresh database, two workers; everything removed afterwards."""
    if not (_reachable(PG_HOST, PG_PORT) and _reachable(REDIS_HOST, REDIS_PORT)):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL and Redis must run for the scale tests (.ci/run starts them)")
        pytest.skip("PostgreSQL or Redis is not running on this machine")
    run_id = uuid.uuid4().hex[:10]
    database = f"lamplighter_scale_{run_id}"
    with _pg_connect() as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
        user = connection.info.user
    tmp = tmp_path_factory.mktemp("scale")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{PG_HOST}:{PG_PORT}/{database}",
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
        "LAMPLIGHTER_REDIS_PREFIX": f"scale-{run_id}",
        "LAMPLIGHTER_DATA_DIR": str(tmp),
        "LAMPLIGHTER_SECRET_KEY": "scale-test-" + run_id,
        "LAMPLIGHTER_HEARTBEAT_INTERVAL": str(HEARTBEAT),
        "LAMPLIGHTER_MISSED_HEARTBEATS": str(MISSED),
        "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    workers: list[Worker] = []
    try:
        subprocess.run(
            [sys.executable, "-m", "lamplighter.cli.main", "migrate", "-v", "0"],
            cwd=HUB_DIR,
            env=env,
            check=True,
        )
        seeded = subprocess.run(
            [sys.executable, "-m", "lamplighter.tools.loadseed", "--devices", "6", "--prefix", "scale"],
            cwd=HUB_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
        seed = json.loads(seeded.stdout)
        workers = [Worker(free_port(), env, tmp / name) for name in ("a.log", "b.log")]
        for worker in workers:
            worker.start()
        yield Cluster(workers[0], workers[1], seed, env)
    finally:
        for worker in workers:
            worker.stop()
        with _pg_connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
        for key in client.scan_iter(f"scale-{run_id}*"):
            client.delete(key)


@pytest.fixture
async def devices_stopped(cluster: Cluster) -> Any:
    """Stop every simulated device a test started."""
    yield cluster
    for device in cluster.devices:
        await device.stop()
    cluster.devices.clear()


class Dashboard:
    """A logged-in browser's live socket to one worker."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    @classmethod
    async def open(cls, cluster: Cluster, worker: Worker) -> "Dashboard":
        """Connect with the seeded owner's session cookie and the page's Origin."""
        socket = await websockets.connect(
            worker.ws_url + "/ws/dashboard/",
            additional_headers={"Cookie": cluster.seed["session_cookie"]},
            origin=websockets.Origin(worker.url),
            # The hub pings (and this loop answers); a client ping missing its pong on a loaded
            # machine would close the socket in the middle of a test.
            ping_interval=None,
        )
        return cls(socket)

    async def wait_for(self, kind: str, check: Any) -> dict[str, Any]:
        """The first event of this type for which check(event) is true."""
        async with asyncio.timeout(WAIT):
            while True:
                frame = json.loads(await self.socket.recv())
                for event in frame if isinstance(frame, list) else [frame]:
                    if event.get("type") == kind and check(event):
                        return event


async def wait_until(predicate: Any, what: str) -> None:
    """Poll an async predicate until it is true."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def device_row(cluster: Cluster, worker: Worker, device_id: str) -> dict[str, Any]:
    """A device as the API of this worker shows it."""
    async with cluster.api(worker) as api:
        response = await api.get("/api/v1/devices", params={"home_id": cluster.seed["home_id"]})
        response.raise_for_status()
        return next(row for row in response.json() if row["device_id"] == device_id)


async def light_row(cluster: Cluster, worker: Worker, light_id: int) -> dict[str, Any]:
    """A light as the API of this worker shows it."""
    async with cluster.api(worker) as api:
        response = await api.get(f"/api/v1/lights/{light_id}")
        response.raise_for_status()
        return dict(response.json())


async def set_light(cluster: Cluster, worker: Worker, light_id: int, on: bool) -> None:
    """Ask for a desired state through one worker's API."""
    async with cluster.api(worker) as api:
        response = await api.post(f"/api/v1/lights/{light_id}/state", json={"on": on})
        assert response.status_code == 202, response.text


def confirmed(light_id: int, on: bool) -> Any:
    """Dashboard event check: this light's device reports `on`, nothing pending."""

    def check(event: dict[str, Any]) -> bool:
        light = event["light"]
        return light["id"] == light_id and light["reported_on"] is on and not light["pending"]

    return check


async def test_a_command_on_either_worker_reaches_its_device_and_every_dashboard(
    devices_stopped: Cluster,
) -> None:
    cluster = devices_stopped
    on_a, on_b = cluster.device(0, cluster.a), cluster.device(1, cluster.b)
    await asyncio.wait_for(asyncio.gather(on_a.welcomed.wait(), on_b.welcomed.wait()), WAIT)
    dashboards = [await Dashboard.open(cluster, cluster.a), await Dashboard.open(cluster, cluster.b)]
    for entry, device, via in (
        (cluster.seed["devices"][0], on_a, cluster.b),
        (cluster.seed["devices"][1], on_b, cluster.a),
    ):
        await set_light(cluster, via, entry["light_id"], True)
        for dashboard in dashboards:
            await dashboard.wait_for(realtime.LIGHT_STATE, confirmed(entry["light_id"], True))
        assert device.state[(entry["room"], entry["light"])][0] is True
    for dashboard in dashboards:
        await dashboard.socket.close()


async def test_presence_is_right_on_every_worker(devices_stopped: Cluster) -> None:
    cluster = devices_stopped
    entry = cluster.seed["devices"][2]
    dashboard = await Dashboard.open(cluster, cluster.a)
    device = cluster.device(2, cluster.b)
    await asyncio.wait_for(device.welcomed.wait(), WAIT)
    for worker in (cluster.a, cluster.b):
        row = await device_row(cluster, worker, entry["device_id"])
        assert row["online"] and row["connection"] == "websocket"
    await dashboard.wait_for(
        realtime.DEVICE_PRESENCE,
        lambda e: e["device"]["device_id"] == entry["device_id"] and e["device"]["online"],
    )
    # Heartbeats keep it online well past the offline budget.
    await asyncio.sleep(HEARTBEAT * (MISSED + 1))
    assert (await device_row(cluster, cluster.a, entry["device_id"]))["online"]
    await device.stop()
    await dashboard.wait_for(
        realtime.DEVICE_PRESENCE,
        lambda e: e["device"]["device_id"] == entry["device_id"] and not e["device"]["online"],
    )
    assert not (await device_row(cluster, cluster.a, entry["device_id"]))["online"]
    await dashboard.socket.close()


async def test_a_killed_worker_restarted_loses_nothing(devices_stopped: Cluster) -> None:
    cluster = devices_stopped
    stays, moves = cluster.seed["devices"][3], cluster.seed["devices"][4]
    waits_for_b = cluster.device(3, cluster.b)  # knows only worker B: waits for it to come back
    fails_over = cluster.device(4, cluster.b, cluster.a)  # B first, then A
    await asyncio.wait_for(asyncio.gather(waits_for_b.welcomed.wait(), fails_over.welcomed.wait()), WAIT)
    assert fails_over.connected_url == cluster.b.ws_url

    cluster.b.kill()
    # Commands taken while B is dead, by the surviving worker.
    await set_light(cluster, cluster.a, stays["light_id"], True)
    await set_light(cluster, cluster.a, moves["light_id"], True)

    # The device that fails over converges on A.
    await wait_until(
        lambda: _light_confirmed(cluster, cluster.a, moves["light_id"], True), "the failed-over device"
    )
    assert fails_over.connected_url == cluster.a.ws_url
    # The one that waits is shown offline (its socket died with B: no heartbeat reaches anyone).
    await wait_until(
        lambda: _device_online(cluster, cluster.a, stays["device_id"], False),
        "the orphaned device to go offline",
    )
    assert (await device_row(cluster, cluster.a, stays["device_id"]))["connection"] is None

    # In a thread: the devices on this loop keep heartbeating while B starts.
    await asyncio.to_thread(cluster.b.start)
    await wait_until(
        lambda: _light_confirmed(cluster, cluster.b, stays["light_id"], True), "convergence after restart"
    )
    await wait_until(
        lambda: _device_online(cluster, cluster.a, stays["device_id"], True), "the device back online"
    )
    assert waits_for_b.state[(stays["room"], stays["light"])][0] is True
    # The restarted worker delivers to a device on the other worker, and back.
    await set_light(cluster, cluster.b, moves["light_id"], False)
    await set_light(cluster, cluster.a, stays["light_id"], False)
    await wait_until(
        lambda: _light_confirmed(cluster, cluster.a, moves["light_id"], False), "delivery B -> A"
    )
    await wait_until(
        lambda: _light_confirmed(cluster, cluster.b, stays["light_id"], False), "delivery A -> B"
    )


async def _light_confirmed(cluster: Cluster, worker: Worker, light_id: int, on: bool) -> bool:
    row = await light_row(cluster, worker, light_id)
    return bool(row["reported_on"] is on and not row["pending"])


async def _device_online(cluster: Cluster, worker: Worker, device_id: str, online: bool) -> bool:
    return bool((await device_row(cluster, worker, device_id))["online"] is online)


async def test_serve_with_several_workers_shares_one_port(devices_stopped: Cluster) -> None:
    cluster = devices_stopped
    multi = Worker(free_port(), cluster.env, cluster.a.log.with_name("multi.log"))
    await asyncio.to_thread(multi.start, "--workers", "2")
    try:
        devices = [cluster.device(5, multi)]
        await asyncio.wait_for(devices[0].welcomed.wait(), WAIT)
        dashboards = [await Dashboard.open(cluster, multi) for _ in range(4)]  # spread over both processes
        light_id = cluster.seed["devices"][5]["light_id"]
        async with cluster.api(multi) as api:
            for _ in range(4):  # several requests, so both processes take some
                response = await api.post(f"/api/v1/lights/{light_id}/state", json={"on": True})
                assert response.status_code == 202
        for dashboard in dashboards:
            await dashboard.wait_for(realtime.LIGHT_STATE, confirmed(light_id, True))
            await dashboard.socket.close()
    finally:
        multi.stop()


async def test_polls_on_either_worker_share_redis_connections_and_the_failure_counts(
    devices_stopped: Cluster,
) -> None:
    cluster = devices_stopped
    entry = cluster.seed["devices"][4]
    stats = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    opened_before = int(stats.info("stats")["total_connections_received"])
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(50):
            for worker in (cluster.a, cluster.b):
                poll = await client.get(
                    worker.url + "/lights_status/", auth=(entry["device_id"], entry["secret"])
                )
                assert poll.status_code == 200, poll.text
                assert [light["light"] for light in poll.json()["data"]["lights"]] == [entry["light"]]
        # Each worker keeps its Redis connections: a new one per request would be 100 here.
        assert int(stats.info("stats")["total_connections_received"]) - opened_before < 30
        # Failures counted on one worker throttle the address on the other (proxy address, trusted from loopback).
        attacker = {"X-Forwarded-For": "198.51.100.7"}
        for _ in range(20):  # LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES
            refused = await client.get(
                cluster.a.url + "/lights_status/", auth=(entry["device_id"], "wrong"), headers=attacker
            )
            assert refused.status_code == 401
        auth = (entry["device_id"], entry["secret"])
        assert (
            await client.get(cluster.b.url + "/lights_status/", auth=auth, headers=attacker)
        ).status_code == 429
        assert (await client.get(cluster.b.url + "/lights_status/", auth=auth)).status_code == 200


def test_several_workers_need_redis(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LAMPLIGHTER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "lamplighter.cli.main", "serve", "--workers", "2", "--port", str(free_port())],
        cwd=HUB_DIR,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert b"needs REDIS_URL" in result.stderr
