"""End to end: a real hub on a loopback port and the real firmware as a simulated device.

A toggle through the REST API reaches the device and its reported state comes back, over
each delivery path: WebSocket, HTTP polling only, and LAN push to the device's /control_led.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.lights.models import Light
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "end-to-end-device-secret"  # noqa: S105 - test fixture


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    return owner, device, light


@pytest.fixture
def devices(start_device: Callable[..., Any]) -> Callable[..., Any]:
    return start_device


def boot(devices: Callable[..., Any], tmp_path: Path, hub: LiveHub, device: Device, **config: object) -> Any:
    return devices(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub.url],
        lights=[{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
        **config,
    )


def reported(light: Light) -> tuple:
    light.refresh_from_db()
    return light.reported_on, light.reported_version


def toggle_and_confirm(hub: LiveHub, owner: object, light: Light, simulated: Any, timeout: float) -> None:
    with api_client(hub, owner) as client:
        response = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": True})
        assert response.status_code == 202
        version = response.json()["desired_version"]
        wait_for(lambda: reported(light) == (True, version), timeout, "the device's report")
        assert client.get(f"/api/v1/lights/{light.pk}").json()["pending"] is False
    assert simulated.light("Kitchen", "Ceiling")["state"]["on"] is True
    assert simulated.pin(2) is True


def test_websocket_path(live_hub: LiveHub, home: tuple, devices: Callable[..., Any], tmp_path: Path) -> None:
    owner, device, light = home
    simulated = boot(devices, tmp_path, live_hub, device)
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 10, "the WebSocket")
    toggle_and_confirm(live_hub, owner, light, simulated, timeout=5)
    status = httpx.get(simulated.url + "/status", auth=(device.device_id, SECRET), timeout=5).json()
    assert status["hub"] == {
        "connected": True,
        "url": live_hub.url,
        "transport": "websocket",
        "mode": "local",
    }
    assert status["lights"][0]["on"] is True


def test_http_polling_only(
    live_hub: LiveHub, home: tuple, devices: Callable[..., Any], tmp_path: Path
) -> None:
    owner, device, light = home
    simulated = boot(devices, tmp_path, live_hub, device, transport="http", poll_interval=0.3)
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "http", 10, "the first poll")
    assert Device.objects.get(pk=device.pk).lan_url == ""
    toggle_and_confirm(live_hub, owner, light, simulated, timeout=5)


def test_lan_push_beats_a_slow_poll(
    live_hub: LiveHub, home: tuple, devices: Callable[..., Any], tmp_path: Path
) -> None:
    owner, device, light = home
    simulated = boot(
        devices, tmp_path, live_hub, device, transport="http", poll_interval=600, advertise_lan=True
    )
    wait_for(lambda: Device.objects.get(pk=device.pk).lan_url == simulated.url, 10, "the device's hello")
    # With a 10-minute poll, only the LAN push can deliver within the timeout.
    toggle_and_confirm(live_hub, owner, light, simulated, timeout=5)


def test_local_change_on_the_device_reaches_the_hub(
    live_hub: LiveHub, home: tuple, devices: Callable[..., Any], tmp_path: Path
) -> None:
    _, device, light = home
    simulated = boot(devices, tmp_path, live_hub, device)
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 10, "the WebSocket")
    answer = httpx.get(
        simulated.url + "/control_led",
        params={"room": "Kitchen", "light": "Ceiling", "action": "toggle"},
        auth=(device.device_id, SECRET),
        timeout=5,
    )
    assert answer.status_code == 200
    wait_for(lambda: Light.objects.get(pk=light.pk).desired_on is True, 5, "the hub to adopt the change")
    wait_for(
        lambda: reported(light)[0] is True and not Light.objects.get(pk=light.pk).pending, 5, "confirmation"
    )


def test_wrong_secret_never_connects(
    live_hub: LiveHub, home: tuple, devices: Callable[..., Any], tmp_path: Path
) -> None:
    _, device, _ = home
    simulated = devices(
        tmp_path / "intruder",
        device_id=device.device_id,
        secret="not-the-secret",
        hubs=[live_hub.url],
        lights=[{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    )
    wait_for(
        lambda: any(
            "401" in line or "403" in line or "refused" in line for line in simulated.output().split("\n")
        ),
        10,
        "the refusal",
    )
    device.refresh_from_db()
    assert not device.online and device.last_seen is None
