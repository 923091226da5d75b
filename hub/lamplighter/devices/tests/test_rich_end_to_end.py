"""End to end with brightness and colour: a real hub, the real firmware (its PWM duties recorded
by the host hardware layer), over each delivery path, on both runtimes: the simulator on CPython
and the compiled bundle on MicroPython's unix port under a board's heap (`start_device`)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "rich-end-to-end-device-secret"  # noqa: S105 - test fixture


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Lounge")
    device = DeviceFactory(home=room.home, secret=SECRET)
    strip = light_create(room=room, name="Strip", kind="dimmable", device=device)
    colour = light_create(room=room, name="Colour", kind="rgb", device=device)
    return owner, device, strip, colour


def boot(
    start_device: Callable[..., Any], tmp_path: Path, hub: LiveHub, device: Device, **config: object
) -> Any:
    return start_device(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub.url],
        lights=[
            {"room": "Lounge", "light": "Strip", "kind": "dimmable", "pin": 2},
            {"room": "Lounge", "light": "Colour", "kind": "rgb", "pins": {"r": 3, "g": 4, "b": 5}},
        ],
        **config,
    )


def confirmed(light: Light, version: int) -> bool:
    light.refresh_from_db()
    return light.reported_version == version and not light.pending


def set_and_confirm(hub: LiveHub, owner: object, strip: Light, colour: Light, simulated: Any) -> None:
    with api_client(hub, owner) as client:
        answer = client.post(f"/api/v1/lights/{strip.pk}/state", json={"on": True, "brightness": 128})
        assert answer.status_code == 202, answer.text
        wait_for(lambda: confirmed(strip, answer.json()["desired_version"]), 5, "the strip's report")
        answer = client.post(
            f"/api/v1/lights/{colour.pk}/state", json={"on": True, "rgb": [255, 0, 0], "brightness": 255}
        )
        assert answer.status_code == 202, answer.text
        wait_for(lambda: confirmed(colour, answer.json()["desired_version"]), 5, "the colour's report")
    assert simulated.light("Lounge", "Strip")["state"] == {"on": True, "brightness": 128}
    # The device's outputs hold the values: half brightness through the perceptual curve, pure red.
    # Half brightness through the perceptual curve: lit, well under half the duty (CIE L* 50 is ~18 %).
    assert 0 < simulated.duty(2) < 65535 // 2
    assert simulated.duty(3) == 65535 and simulated.duty(4) == 0 and simulated.duty(5) == 0
    strip.refresh_from_db()
    assert strip.reported_brightness == 128
    status = httpx.get(
        simulated.url + protocol.DEVICE_STATUS_PATH, auth=(strip.device.device_id, SECRET), timeout=5
    ).json()
    by_name = {light["light"]: light for light in status["lights"]}
    assert by_name["Strip"]["brightness"] == 128 and by_name["Colour"]["rgb"] == [255, 0, 0]


def test_websocket_path(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path
) -> None:
    owner, device, strip, colour = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    wait_for(
        lambda: Device.objects.get(pk=device.pk).lights_capability >= protocol.LIGHTS_RICH,
        10,
        "the rich hello",
    )
    set_and_confirm(live_hub, owner, strip, colour, simulated)
    strip.refresh_from_db()
    assert strip.device_kind == "dimmable"


def test_http_polling_only(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path
) -> None:
    owner, device, strip, colour = home
    simulated = boot(start_device, tmp_path, live_hub, device, transport="http", poll_interval=0.3)
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "http", 10, "the first poll")
    wait_for(
        lambda: Device.objects.get(pk=device.pk).lights_capability >= protocol.LIGHTS_RICH,
        10,
        "the rich hello",
    )
    set_and_confirm(live_hub, owner, strip, colour, simulated)


def test_lan_push(live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path) -> None:
    owner, device, strip, colour = home
    simulated = boot(
        start_device, tmp_path, live_hub, device, transport="http", poll_interval=600, advertise_lan=True
    )
    wait_for(lambda: Device.objects.get(pk=device.pk).lan_url == simulated.url, 10, "the device's hello")
    set_and_confirm(live_hub, owner, strip, colour, simulated)
