"""Never half-alive: a fault injected into a device task, on both runtimes, against a real hub.

An unexpected exception and a MemoryError in the hub session and in the web server: the failure
reaches the hub's device log, the task starts again, and the device is connected and switching
lights within seconds, with nothing lost.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device, DeviceLogLine
from lamplighter.lights.models import Light
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "supervised-device-secret-0123"  # noqa: S105 - test fixture
FAULTS = [("memory", "MemoryError"), ("error", "RuntimeError")]


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    return owner, device, light


def boot(start_device: Callable[..., Any], tmp_path: Path, hub: LiveHub, device: Device) -> Any:
    simulated = start_device(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub.url],
        lights=[{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    )
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 15, "the WebSocket")
    return simulated


def switch(hub: LiveHub, owner: object, light: Light, on: bool) -> int:
    with api_client(hub, owner) as client:
        response = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": on})
        assert response.status_code == 202
        return response.json()["desired_version"]


def reported(light: Light) -> tuple:
    light.refresh_from_db()
    return light.reported_on, light.reported_version


def failure_logged(device: Device, task: str, kind: str) -> bool:
    return DeviceLogLine.objects.filter(device=device, text__contains=f"{task} failed: {kind}").exists()


@pytest.mark.parametrize(("fault", "kind"), FAULTS)
def test_a_failing_hub_session_is_restarted(
    live_hub: LiveHub, home: tuple, start_device: Callable, tmp_path: Path, fault: str, kind: str
) -> None:
    owner, device, light = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    simulated.control("inject", "hub", fault)
    # The next hub message (this switch) meets the fault: the session dies and starts again.
    version = switch(live_hub, owner, light, True)
    wait_for(lambda: reported(light) == (True, version), 15, "the switch after the restart")
    assert simulated.pin(2) is True
    wait_for(lambda: failure_logged(device, "hub session", kind), 10, "the failure in the hub's device log")
    assert simulated.control("failures") == {"hub session": 1}
    version = switch(live_hub, owner, light, False)
    wait_for(lambda: reported(light) == (False, version), 10, "the next switch")
    assert simulated.boots == 1  # one failure restarts the task, not the device


@pytest.mark.parametrize(("fault", "kind"), FAULTS)
def test_a_failing_web_request_leaves_the_server_serving(
    live_hub: LiveHub, home: tuple, start_device: Callable, tmp_path: Path, fault: str, kind: str
) -> None:
    owner, device, light = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    simulated.control("inject", "web", fault)
    auth = (device.device_id, SECRET)
    failed = httpx.get(simulated.url + "/status", auth=auth, timeout=5)
    assert failed.status_code == (503 if fault == "memory" else 400)
    assert httpx.get(simulated.url + "/status", auth=auth, timeout=5).json()["hub"]["connected"] is True
    answer = httpx.get(
        simulated.url + "/control_led",
        params={"room": "Kitchen", "light": "Ceiling", "action": "toggle"},
        auth=auth,
        timeout=5,
    )
    assert answer.status_code == 200
    wait_for(lambda: reported(light)[0] is True, 10, "the change on the device reaching the hub")
    wait_for(lambda: failure_logged(device, "web request", kind), 10, "the failure in the hub's device log")


@pytest.mark.parametrize(("fault", "kind"), FAULTS)
def test_repeated_failures_reboot_the_device_cleanly(
    live_hub: LiveHub, home: tuple, start_device: Callable, tmp_path: Path, fault: str, kind: str
) -> None:
    owner, device, light = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    auth = (device.device_id, SECRET)
    for _ in range(6):  # over the supervisor's limit (5 within two minutes)
        simulated.control("inject", "web", fault)
        httpx.get(simulated.url + "/status", auth=auth, timeout=5)
    wait_for(lambda: simulated.boots == 2, 15, "the reboot")
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 15, "the device back")
    version = switch(live_hub, owner, light, True)
    wait_for(lambda: reported(light) == (True, version), 15, "a switch after the reboot")
    wait_for(lambda: "repeated failures" in simulated.output(), 5, "the reason on the console")
