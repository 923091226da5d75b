"""A light's flash on the hub's side (docs/protocol.md, "Flash"): the desired entry with flash_ms,
on the path a desired state takes, to a lights-4 device only, nothing stored."""

from typing import Any

import pytest

from factories import DeviceFactory, HomeFactory, RoomFactory
from lamplighter.firmware import protocol
from lamplighter.infra import lan_push
from lamplighter.lights import delivery
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_wire_entry
from lamplighter.lights.services import light_create, light_flash, light_set_desired
from lamplighter.lights.state import LightStateError

pytestmark = pytest.mark.django_db


def lamp(**device: Any) -> Light:
    room = RoomFactory(home=HomeFactory(), name="Living room")
    fields = {"lights_capability": protocol.LIGHTS_FLASH, "channel_name": "ws-1", **device}
    return light_create(
        room=room, name="Reading lamp", kind="dimmable", device=DeviceFactory(home=room.home, **fields)
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The messages handed to the devices' sockets."""
    messages: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(delivery.realtime, "send_many_to_devices", messages.extend)
    return messages


def test_a_flash_sends_the_desired_entry_with_flash_ms_and_stores_nothing(
    sent: list, django_capture_on_commit_callbacks: Any
) -> None:
    light = lamp()
    with django_capture_on_commit_callbacks(execute=True):
        light_set_desired(light=light, state={"on": True, "brightness": 120})
    light.refresh_from_db()
    before = (light.desired_version, light.desired_at, light.desired_on, light.desired_brightness)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        light_flash(light=light, flash_ms=2000, cause=protocol.CAUSE_HA)
    [(device_id, message)] = sent
    assert device_id == light.device.device_id and message["type"] == protocol.STATE_SET
    [entry] = message["data"]["lights"]
    assert entry == protocol.light_entry(
        "Living room",
        "Reading lamp",
        {"on": True, "brightness": 120},
        before[0],
        cause=protocol.CAUSE_HA,
        flash_ms=2000,
    )
    light.refresh_from_db()
    assert (light.desired_version, light.desired_at, light.desired_on, light.desired_brightness) == before


def test_a_device_whose_firmware_cannot_flash_gets_nothing_and_the_reason_names_it(sent: list) -> None:
    light = lamp(lights_capability=protocol.LIGHTS_ADAPTIVE)
    with pytest.raises(LightStateError) as caught:
        light_flash(light=light, flash_ms=2000)
    assert "cannot flash" in caught.value.messages[0] and light.device.device_id in caught.value.messages[0]
    assert sent == []
    # and the wire entry of such a device never carries flash_ms
    assert "flash_ms" not in light_wire_entry(light, capability=protocol.LIGHTS_ADAPTIVE, flash_ms=2000)
    assert light_wire_entry(light, capability=protocol.LIGHTS_FLASH, flash_ms=2000)["flash_ms"] == 2000


@pytest.mark.parametrize("flash_ms", [0, -1, protocol.MAX_FLASH_MS + 1, True, 1.5])
def test_a_flash_out_of_range_is_refused(sent: list, flash_ms: Any) -> None:
    with pytest.raises(LightStateError) as caught:
        light_flash(light=lamp(), flash_ms=flash_ms)
    assert "flash_ms" in caught.value.messages[0]
    assert sent == []


def test_a_light_without_a_device_cannot_flash() -> None:
    light = light_create(room=RoomFactory(), name="Loose", kind="onoff")
    with pytest.raises(LightStateError):
        light_flash(light=light, flash_ms=1000)


def test_over_lan_push_the_flash_travels_in_the_query(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    pushed: list[dict[str, Any]] = []
    monkeypatch.setattr(lan_push, "submit", lambda **call: pushed.append(call))
    light = lamp(channel_name="", lan_url="http://127.0.0.1:8123", lan_token="t" * 32)  # noqa: S106 - test fixture
    with django_capture_on_commit_callbacks(execute=True):
        light_flash(light=light, flash_ms=10000)
    [call] = pushed
    [entry] = call["entries"]
    query = lan_push.control_params(entry)
    assert (query["flash_ms"], query["version"], query["action"]) == (
        "10000",
        str(light.desired_version),
        "off",
    )


def test_a_device_that_only_polls_misses_the_flash_and_the_log_says_so(
    sent: list, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    light = lamp(channel_name="")
    with django_capture_on_commit_callbacks(execute=True):
        light_flash(light=light, flash_ms=1000)
    assert sent == []
    assert f"flash of light {light.pk} not sent: its device has no live connection" in caplog.text
