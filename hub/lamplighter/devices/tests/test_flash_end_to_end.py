"""End to end for a light's flash (docs/protocol.md, "Flash"): a real hub, the real firmware with
its pins and PWM duties, on both runtimes, over the WebSocket and a LAN push. The output blinks
(dark and full) and ends exactly as it was; the device reports nothing new."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import LiveHub
from factories import DeviceFactory, HomeFactory, RoomFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create, light_flash, light_set_desired
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "flash-end-to-end-device-secret"  # noqa: S105 - test fixture
LAMP_PIN, STRIP_PIN = 2, 3
FLASH_MS = 3000  # 12 phases of 250 ms: samples taken every few ms see both


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    room = RoomFactory(home=HomeFactory(), name="Living room")
    device = DeviceFactory(home=room.home, secret=SECRET)
    lamp = light_create(room=room, name="Ceiling", kind="onoff", device=device)
    strip = light_create(room=room, name="Reading lamp", kind="dimmable", device=device)
    return device, lamp, strip


def boot(
    start_device: Callable[..., Any], tmp_path: Path, hub: LiveHub, device: Device, **config: object
) -> Any:
    simulated = start_device(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub.url],
        lights=[
            {"room": "Living room", "light": "Ceiling", "kind": "onoff", "pin": LAMP_PIN},
            {"room": "Living room", "light": "Reading lamp", "kind": "dimmable", "pin": STRIP_PIN},
        ],
        **config,
    )
    wait_for(
        lambda: Device.objects.get(pk=device.pk).lights_capability >= protocol.LIGHTS_FLASH,
        15,
        "the device's hello with lights 4",
    )
    return simulated


def set_and_confirm(light: Light, state: dict[str, Any]) -> None:
    light_set_desired(light=light, state=state)

    def confirmed() -> bool:
        light.refresh_from_db()
        return light.reported_version == light.desired_version and not light.pending

    wait_for(confirmed, 10, f"{light.name}'s report")


def watch_flash(simulated: Any, read: Callable[[], Any]) -> list[Any]:
    """Sample the output with read() until the device's flashes are over; the values it showed."""
    seen: list[Any] = []

    def over() -> bool:
        value = read()
        if not seen or seen[-1] != value:
            seen.append(value)
        return not simulated.control("flashing")

    wait_for(lambda: simulated.control("flashing"), 10, "the flash to start")
    wait_for(over, 10 + FLASH_MS / 1000, "the flash to end")
    return seen


def test_over_the_websocket_both_lights_blink_and_end_as_they_were(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path, reports: list
) -> None:
    device, lamp, strip = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    set_and_confirm(strip, {"on": True, "brightness": 100})
    set_and_confirm(lamp, {"on": True})
    before = simulated.duty(STRIP_PIN)
    assert 0 < before < 65535 and simulated.pin(LAMP_PIN) is True
    version = strip.desired_version

    mark = len(reports)
    light_flash(light=strip, flash_ms=FLASH_MS)
    seen = watch_flash(simulated, lambda: simulated.duty(STRIP_PIN))
    assert {0, 65535} <= set(seen), seen  # dark and full, in turn
    assert simulated.duty(STRIP_PIN) == before  # and back to its brightness exactly
    light_flash(light=lamp, flash_ms=FLASH_MS)
    seen = watch_flash(simulated, lambda: simulated.pin(LAMP_PIN))
    assert set(seen) == {False, True}, seen
    assert simulated.pin(LAMP_PIN) is True
    assert simulated.duty(STRIP_PIN) == before

    # Not a new state: the device keeps its version and reports nothing; the hub stores nothing.
    assert simulated.light("Living room", "Reading lamp")["state"] == {"on": True, "brightness": 100}
    assert simulated.light("Living room", "Reading lamp")["version"] == version
    assert [entry for entry in reports[mark:] if entry["light"] in ("Ceiling", "Reading lamp")] == []
    strip.refresh_from_db()
    assert (strip.desired_version, strip.reported_version, strip.reported_brightness) == (
        version,
        version,
        100,
    )


def test_over_a_lan_push_a_light_that_is_off_blinks_and_ends_dark(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path
) -> None:
    device, lamp, strip = home
    simulated = boot(
        start_device, tmp_path, live_hub, device, transport="http", poll_interval=600, advertise_lan=True
    )
    wait_for(lambda: Device.objects.get(pk=device.pk).lan_url == simulated.url, 10, "the device's hello")
    set_and_confirm(strip, {"on": False, "brightness": 40})
    assert simulated.duty(STRIP_PIN) == 0
    light_flash(light=strip, flash_ms=FLASH_MS)
    seen = watch_flash(simulated, lambda: simulated.duty(STRIP_PIN))
    assert {0, 65535} <= set(seen), seen  # full brightness while lit, whatever its own
    assert simulated.duty(STRIP_PIN) == 0
    assert simulated.light("Living room", "Reading lamp")["state"] == {"on": False, "brightness": 40}
