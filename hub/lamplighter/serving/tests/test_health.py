"""/healthz, /readyz and /metrics on a real hub: answers, reasons when not ready, what the
metrics count, who may read them, and the count of several workers together."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.lights.models import Light
from lamplighter.tests.test_scale import (
    HUB_DIR,
    PG_HOST,
    PG_PORT,
    REDIS_HOST,
    REDIS_PORT,
    Worker,
    _pg_connect,
)
from lamplighter.tools.simulator import free_port
from simulated import SimulatedDevice, wait_for

SECRET = "health-test-device-secret"  # noqa: S105 - test fixture


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(url: str, **kwargs: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url + "/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    assert all(name.startswith("lamplighter_") for name, _ in found), "every metric name has the prefix"
    return found


@pytest.mark.django_db(transaction=True)
def test_health_and_readiness_answer(live_hub: LiveHub) -> None:
    health = httpx.get(live_hub.url + "/healthz", timeout=5)
    assert (health.status_code, health.text) == (200, "ok\n")
    ready = httpx.get(live_hub.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json() == {"ready": True, "problems": []}
    assert httpx.post(live_hub.url + "/healthz", timeout=5).status_code == 405
    # No host check for a probe that knows only the address (asgi.HubRequest), in the one chain.
    assert httpx.get(live_hub.url + "/healthz", headers={"Host": "10.0.0.7"}, timeout=5).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_metrics_count_a_toggle_and_its_device(live_hub: LiveHub, tmp_path: Path) -> None:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    before = scrape(live_hub.url)
    simulated = SimulatedDevice(
        tmp_path / "device",
        device_id=device.device_id,
        secret=SECRET,
        hubs=[live_hub.url],
        lights=[{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    ).start()
    try:
        wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 10, "the WebSocket")
        wait_for(lambda: Light.objects.get(pk=light.pk).reported_version == 1, 10, "the first report")
        connected = scrape(live_hub.url)
        with api_client(live_hub, owner) as client:
            version = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": True}).json()[
                "desired_version"
            ]
        wait_for(lambda: Light.objects.get(pk=light.pk).reported_version == version, 10, "the report")
        after = scrape(live_hub.url)
    finally:
        simulated.stop()

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert after[("lamplighter_devices_connected", (("mode", "local"), ("transport", "websocket")))] == 1
    assert after[("lamplighter_lights_pending", ())] == 0
    assert after[("lamplighter_devices", ())] == 1
    toggles = ("lamplighter_toggle_seconds_count", ())
    assert after[toggles] - connected[toggles] == 1
    assert after[("lamplighter_toggle_seconds_sum", ())] > 0
    assert grew("lamplighter_device_messages_received_total", transport="websocket", type="device.hello") == 1
    assert grew("lamplighter_device_messages_received_total", transport="websocket", type="state.report") >= 1
    assert grew("lamplighter_device_messages_sent_total", transport="websocket", type="state.set") >= 1
    assert after[("lamplighter_ota_jobs", (("state", "queued"),))] == 0
    assert after[("lamplighter_database_up", ())] == 1
    assert after[("lamplighter_process_resident_memory_bytes", ())] > 0


@pytest.mark.django_db(transaction=True)
def test_failures_are_counted(live_hub: LiveHub) -> None:
    before = scrape(live_hub.url)
    client = httpx.Client(base_url=live_hub.url, timeout=5)
    page = client.get("/login/")
    token = page.cookies["csrftoken"]
    client.post("/login/", data={"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token})
    assert (
        httpx.get(live_hub.url + "/lights_status/", auth=("dev-none", "wrong"), timeout=5).status_code == 401
    )
    after = scrape(live_hub.url)
    assert (
        after[("lamplighter_login_failures_total", ())] - before[("lamplighter_login_failures_total", ())]
        == 1
    )
    auth = ("lamplighter_device_auth_failures_total", ())
    assert after[auth] - before[auth] == 1
    polls = ("lamplighter_device_messages_received_total", (("transport", "http"), ("type", "poll")))
    assert after[polls] - before.get(polls, 0) == 1


@pytest.mark.django_db(transaction=True)
def test_metrics_only_for_allowed_addresses_or_the_token(live_hub: LiveHub, settings: Any) -> None:
    settings.LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert httpx.get(live_hub.url + "/metrics", timeout=5).status_code == 403
    settings.LAMPLIGHTER_METRICS_TOKEN = "scrape-" + uuid.uuid4().hex
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(live_hub.url + "/metrics", headers=wrong, timeout=5).status_code == 403
    right = {"Authorization": f"Bearer {settings.LAMPLIGHTER_METRICS_TOKEN}"}
    assert ("lamplighter_database_up", ()) in scrape(live_hub.url, headers=right)
    settings.LAMPLIGHTER_METRICS_TOKEN = ""
    settings.LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES = ["127.0.0.0/8"]
    assert ("lamplighter_database_up", ()) in scrape(live_hub.url)


# ---- real processes on PostgreSQL and Redis --------------------------------------------------


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated PostgreSQL database the tests' own databases are copied from (one migrate)."""
    name = f"lamplighter_issue16_health_template_{uuid.uuid4().hex[:8]}"
    with _pg_connect() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {**_hub_env(name, tmp_path_factory.mktemp("template")), "LAMPLIGHTER_DB_POOL_SIZE": "0"}
    subprocess.run(
        [sys.executable, "-m", "lamplighter.cli.main", "migrate", "-v", "0"], cwd=HUB_DIR, env=env, check=True
    )
    yield name
    with _pg_connect() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _hub_env(database: str, data_dir: Path) -> dict[str, str]:
    with _pg_connect() as connection:
        user = connection.info.user
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}@{PG_HOST}:{PG_PORT}/{database}",
        "LAMPLIGHTER_DATA_DIR": str(data_dir),
        "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        "LAMPLIGHTER_REDIS_PREFIX": f"health-{uuid.uuid4().hex[:8]}",
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
        "_DATABASE_NAME": database,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("REDIS_URL", None)
    return env


@pytest.fixture
def postgres_hub_env(migrated_template: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a hub on a fresh, migrated PostgreSQL database (dropped afterwards)."""
    name = f"lamplighter_issue16_health_{uuid.uuid4().hex[:8]}"
    with _pg_connect() as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    yield _hub_env(name, tmp_path)
    with _pg_connect() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_readyz_gives_the_reasons(postgres_hub_env: dict[str, str], tmp_path: Path) -> None:
    env = {**postgres_hub_env, "REDIS_URL": f"redis://{REDIS_HOST}:{free_port()}/0"}  # nothing listens
    hub = Worker(free_port(), env, tmp_path / "hub.log")
    hub.start()
    try:
        ready = httpx.get(hub.url + "/readyz", timeout=30)
        assert ready.status_code == 503
        [problem] = ready.json()["problems"]
        assert problem.startswith("channel layer: ") and "onnect" in problem
        with _pg_connect() as connection:  # the database goes away under the running hub
            connection.execute(f'DROP DATABASE "{env["_DATABASE_NAME"]}" WITH (FORCE)')
        ready = httpx.get(hub.url + "/readyz", timeout=30)
        assert ready.status_code == 503
        problems = ready.json()["problems"]
        assert [p.split(":")[0] for p in problems] == ["database", "channel layer"], problems
        assert httpx.get(hub.url + "/healthz", timeout=5).status_code == 200  # the process still answers
        metrics = samples(httpx.get(hub.url + "/metrics", timeout=30).text)
        assert metrics[("lamplighter_database_up", ())] == 0
        assert (
            metrics[("lamplighter_database_errors_total", ())] >= 1
        )  # readyz (this scrape counts after its read)
        assert metrics[("lamplighter_channel_layer_errors_total", ())] >= 2
    finally:
        hub.stop()


def test_several_workers_count_together(postgres_hub_env: dict[str, str], tmp_path: Path) -> None:
    env = {**postgres_hub_env, "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/0"}
    hub = Worker(free_port(), env, tmp_path / "hub.log")
    hub.start("--workers", "2")
    try:
        failures = 6
        for _ in range(failures):  # new connections: the kernel spreads them over both workers
            assert (
                httpx.get(hub.url + "/lights_status/", auth=("dev-none", "wrong"), timeout=10).status_code
                == 401
            )
        deadline = time.monotonic() + 10
        while True:
            # Every scrape, whichever worker answers, counts both workers' failures.
            seen = {scrape(hub.url)[("lamplighter_device_auth_failures_total", ())] for _ in range(4)}
            if seen == {failures}:
                break
            assert time.monotonic() < deadline, seen
            time.sleep(0.2)
        assert any((tmp_path / "metrics").iterdir()), "each worker's counts are in the data dir"
    finally:
        hub.stop()
