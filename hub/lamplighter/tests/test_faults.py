"""Faults the system must survive without losing a change: devices away, hub away, a stalled
network, a locked database. Real hub, real firmware (simulated devices), real sockets."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from conftest import HubServer, LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.firmware.backoff import Backoff
from lamplighter.lights.models import Light
from netfault import BLACKHOLE, PASS, FaultyProxy
from simulated import SimulatedDevice, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "fault-test-device-secret"  # noqa: S105 - test fixture
LIGHTS = [("Hall", "Ceiling"), ("Hall", "Wall"), ("Hall", "Floor"), ("Hall", "Porch")]


@pytest.fixture(autouse=True)
def fast_heartbeats(settings: object) -> None:
    """Before the hub starts (its presence sweeper reads the interval once)."""
    settings.LAMPLIGHTER_HEARTBEAT_INTERVAL = 1  # type: ignore[attr-defined]
    settings.LAMPLIGHTER_MISSED_HEARTBEATS = 3  # type: ignore[attr-defined]


@pytest.fixture
def home(fast_heartbeats: None, live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Hall")
    device = DeviceFactory(home=room.home, secret=SECRET)
    lights = [LightFactory(room=room, name=name, device=device) for _, name in LIGHTS]
    return owner, device, lights


@pytest.fixture
def devices() -> Iterator[list[SimulatedDevice]]:
    started: list[SimulatedDevice] = []
    yield started
    for device in started:
        device.stop()


def boot(devices: list, flash: Path, hub_url: str, device: Device) -> SimulatedDevice:
    simulated = SimulatedDevice(
        flash,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub_url],
        lights=[{"room": room, "light": light, "pin": pin} for pin, (room, light) in enumerate(LIGHTS, 2)],
    )
    simulated.device.hub.backoff = Backoff(base=0.2, cap=1.0, floor=0.05)  # quick retries in tests
    simulated.start()
    devices.append(simulated)
    return simulated


def online(device: Device) -> bool:
    return Device.objects.get(pk=device.pk).online


def converged(simulated: SimulatedDevice, lights: list[Light]) -> bool:
    """The device runs every desired state, and the hub has it confirmed."""
    for light in lights:
        light.refresh_from_db()
        held = simulated.light(light.room.name, light.name)
        if (
            held is None
            or held["state"]["on"] != light.desired_on
            or held["version"] != light.desired_version
        ):
            return False
        if light.pending:
            return False
    return True


def test_device_away_during_100_changes_converges_on_return(
    live_hub: LiveHub, home: tuple, devices: list, tmp_path: Path
) -> None:
    owner, device, lights = home
    first = boot(devices, tmp_path / "flash", live_hub.url, device)
    wait_for(lambda: online(device), 10, "the device online")
    first.stop()
    assert first.thread is not None and not first.thread.is_alive(), "the device did not shut down"
    wait_for(lambda: not online(device), 10, "the device offline")
    with api_client(live_hub, owner) as client:
        for change in range(100):
            light = lights[change % len(lights)]
            assert (
                client.post(f"/api/v1/lights/{light.pk}/state", json={"on": change % 3 == 0}).status_code
                == 202
            )
    back = boot(devices, tmp_path / "flash", live_hub.url, device)  # the same flash: a reboot
    wait_for(lambda: online(device), 10, "the device back")
    wait_for(lambda: converged(back, lights), 3, "the device to converge after reconnecting")
    # The device applied each light's latest version once, never an older one after it.
    assert all(Light.objects.get(pk=light.pk).desired_version == 1 + 25 for light in lights)


def test_changes_on_the_device_while_the_hub_is_down_reach_it(
    hub_server: HubServer, live_hub: LiveHub, home: tuple, devices: list, tmp_path: Path
) -> None:
    _, device, lights = home
    simulated = boot(devices, tmp_path / "flash", live_hub.url, device)
    wait_for(lambda: converged(simulated, lights), 10, "the first sync")
    hub_server.stop()
    wait_for(lambda: not simulated.device.hub.status["connected"], 10, "the device to notice")
    auth = (device.device_id, SECRET)
    for room, light in [LIGHTS[0], LIGHTS[1], LIGHTS[0]]:  # Ceiling toggled twice: back to off
        answer = httpx.get(
            simulated.url + "/control_led",
            params={"room": room, "light": light, "action": "toggle"},
            auth=auth,
        )
        assert answer.status_code == 200  # the device keeps working on its own
    assert simulated.light("Hall", "Wall")["state"]["on"] is True
    hub_server.start()
    wait_for(lambda: Light.objects.get(pk=lights[1].pk).desired_on is True, 10, "the hub to learn the change")
    wait_for(lambda: converged(simulated, lights), 5, "both sides to agree")
    assert Light.objects.get(pk=lights[0].pk).desired_on is False


def test_stalled_network_is_noticed_and_recovered_without_loss(
    live_hub: LiveHub, home: tuple, devices: list, tmp_path: Path
) -> None:
    owner, device, lights = home
    proxy = FaultyProxy("127.0.0.1", live_hub.port).start()
    try:
        simulated = boot(devices, tmp_path / "flash", proxy.url, device)
        wait_for(lambda: converged(simulated, lights), 10, "the first sync")
        proxy.mode = BLACKHOLE
        # Hub side: heartbeats stop arriving; 3 missed 1-second heartbeats, plus a sweep.
        wait_for(lambda: not online(device), 8, "the hub to mark the device offline")
        wait_for(lambda: not simulated.device.hub.status["connected"], 8, "the device to notice")
        with api_client(live_hub, owner) as client:
            assert client.post(f"/api/v1/lights/{lights[2].pk}/state", json={"on": True}).status_code == 202
        proxy.mode = PASS
        proxy.cut()
        wait_for(lambda: online(device), 10, "the device back")
        wait_for(lambda: converged(simulated, lights), 5, "the change made during the stall")
        assert simulated.light("Hall", "Floor")["state"]["on"] is True
    finally:
        proxy.stop()


def test_locked_database_is_a_clear_503_and_nothing_half_written(
    live_hub: LiveHub, home: tuple, settings: object
) -> None:
    owner, _, lights = home
    database = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        pytest.skip("locks the SQLite file directly")
    client = api_client(live_hub, owner)  # its token is written before the lock is taken
    client.timeout = 30
    locker = sqlite3.connect(database, timeout=1, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(f"/api/v1/lights/{lights[0].pk}/state", json={"on": True})
        assert response.status_code == 503, response.text
        assert "try again" in response.json()["detail"]
        assert response.headers["Retry-After"]
        poll = httpx.get(live_hub.url + "/lights_status/", auth=("dev-x", "y"), timeout=30)
        assert poll.status_code in (401, 503)
    finally:
        locker.rollback()
        locker.close()
    light = Light.objects.get(pk=lights[0].pk)
    assert (light.desired_on, light.desired_version) == (False, 1)
    assert client.post(f"/api/v1/lights/{lights[0].pk}/state", json={"on": True}).status_code == 202
    client.close()
