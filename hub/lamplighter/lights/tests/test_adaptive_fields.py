"""The hub's side of the adaptive protocol fields (docs/protocol.md, "Adaptive lighting"): hold,
stop and cause go to lights-3 devices only, the reported cause is stored, a person's change
reaches the lights' write watcher."""

import base64
from typing import Any

import pytest

from factories import DeviceFactory, HomeFactory, RoomFactory
from lamplighter.firmware import protocol
from lamplighter.gateway.poll import lights_status_answer
from lamplighter.infra import lan_push
from lamplighter.lights import delivery
from lamplighter.lights import services as light_services
from lamplighter.lights.selectors import device_lights, device_welcome, light_payload, light_wire_entry
from lamplighter.lights.services import light_create, light_reports_apply, light_set_desired
from lamplighter.mqtt_bridge.services import bridge_light_command

pytestmark = pytest.mark.django_db

SECRET = "adaptive-fields-device-secret"  # noqa: S105 - test fixture


@pytest.fixture
def reading() -> Any:
    room = RoomFactory(home=HomeFactory(), name="Bedroom")
    device = DeviceFactory(
        home=room.home, secret=SECRET, lights_capability=protocol.LIGHTS_ADAPTIVE, channel_name="ws-1"
    )
    return light_create(room=room, name="Reading", kind="tunable_white", device=device)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The state.set messages handed to the devices' sockets."""
    messages: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(delivery.realtime, "send_many_to_devices", messages.extend)
    return messages


def report(light: Any, state: dict[str, Any], **fields: Any) -> None:
    light.refresh_from_db()
    entry = protocol.light_entry("Bedroom", "Reading", state, light.desired_version, **fields)
    light_reports_apply(device=light.device, entries=[entry])
    light.refresh_from_db()


def test_hold_stop_and_cause_go_to_a_lights_3_device_only(reading: Any) -> None:
    fields = {"hold": True, "cause": protocol.CAUSE_ADAPTIVE, "transition_ms": 60000}
    new = light_wire_entry(reading, capability=protocol.LIGHTS_ADAPTIVE, **fields)
    assert new["hold"] is True and new["cause"] == protocol.CAUSE_ADAPTIVE and new["transition_ms"] == 60000
    older = light_wire_entry(reading, capability=protocol.LIGHTS_RICH, **fields)
    assert "hold" not in older and "cause" not in older and older["transition_ms"] == 60000
    assert older["state"]["on"] is False  # the ordinary state: the light's desired on
    stop = light_wire_entry(reading, capability=protocol.LIGHTS_ADAPTIVE, stop=True)
    assert stop["stop"] is True and "hold" not in stop
    assert lan_push.control_params(new)["hold"] == "1"
    assert "hold" not in lan_push.control_params(older)


def test_a_hold_keeps_the_desired_on_and_goes_out_held(
    reading: Any, sent: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        light_set_desired(
            light=reading,
            state={"on": True, "brightness": 80, "color_temp_kelvin": 3000},
            transition_ms=600000,
            hold=True,
            cause=protocol.CAUSE_ADAPTIVE,
        )
    reading.refresh_from_db()
    assert (reading.desired_on, reading.desired_brightness, reading.desired_color_temp_kelvin) == (
        False,
        80,
        3000,
    )
    [(device_id, message)] = sent
    [entry] = message["data"]["lights"]
    assert device_id == reading.device.device_id and message["type"] == protocol.STATE_SET
    assert entry["hold"] is True and entry["cause"] == protocol.CAUSE_ADAPTIVE
    assert entry["state"]["on"] is False and entry["transition_ms"] == 600000
    version = reading.desired_version
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        light_set_desired(light=reading, stop=True)
    reading.refresh_from_db()
    assert reading.desired_version == version + 1 and reading.desired_brightness == 80
    [(_, message)] = sent
    assert message["data"]["lights"][0]["stop"] is True


def test_the_reported_cause_is_stored_and_absent_means_the_hub(reading: Any) -> None:
    report(reading, {"on": True, "brightness": 30, "color_temp_kelvin": 3000}, cause=protocol.CAUSE_BUTTON)
    assert reading.reported_cause == protocol.CAUSE_BUTTON
    assert light_payload(reading)["reported_cause"] == protocol.CAUSE_BUTTON
    report(reading, {"on": True, "brightness": 30, "color_temp_kelvin": 3000})
    assert reading.reported_cause == protocol.CAUSE_HUB
    reading.device.lights_capability = protocol.LIGHTS_RICH  # an older device says nothing
    reading.device.save()
    report(reading, {"on": False, "brightness": 30, "color_temp_kelvin": 3000})
    assert reading.reported_cause == "" and light_payload(reading)["reported_cause"] is None


def test_a_persons_change_reaches_the_manual_change_hooks(
    reading: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, list[str], str]] = []
    monkeypatch.setattr(
        light_services.write_watcher,
        "device_manual_change",
        lambda light, parts, cause: seen.append((light.pk, parts, cause)),
    )
    report(reading, {"on": True, "brightness": 30, "color_temp_kelvin": 3000}, cause=protocol.CAUSE_BUTTON)
    assert seen == []  # a switch pauses nothing
    report(
        reading,
        {"on": True, "brightness": 10, "color_temp_kelvin": 3000},
        changed=True,
        cause=protocol.CAUSE_WEB,
        manual=[protocol.MANUAL_BRIGHTNESS],
    )
    assert seen == [(reading.pk, [protocol.MANUAL_BRIGHTNESS], protocol.CAUSE_WEB)]
    assert reading.desired_brightness == 10 and reading.reported_cause == protocol.CAUSE_WEB


def test_a_home_assistant_command_goes_out_with_its_cause(
    reading: Any, sent: list, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        bridge_light_command(light_id=reading.pk, payload=b'{"state": "ON", "brightness": 20}')
    [(_, message)] = sent
    [entry] = message["data"]["lights"]
    assert entry["cause"] == protocol.CAUSE_HA and entry["state"]["brightness"] == 20
    assert "hold" not in entry


def test_a_held_desired_state_goes_out_held_on_every_path_until_an_ordinary_one(reading: Any) -> None:
    light_set_desired(light=reading, state={"brightness": 70, "color_temp_kelvin": 3300}, hold=True)
    reading.refresh_from_db()
    assert reading.desired_hold is True
    [welcome] = device_welcome(device=reading.device, lights=device_lights(device=reading.device))["data"][
        "lights"
    ]
    assert welcome["hold"] is True and welcome["state"]["on"] is False  # a reconnect's welcome
    assert light_wire_entry(reading, capability=protocol.LIGHTS_ADAPTIVE)["hold"] is True  # a resend
    assert "hold" not in light_wire_entry(reading, capability=protocol.LIGHTS_RICH)
    credentials = f"{reading.device.device_id}:{SECRET}".encode()
    header = "Basic " + base64.b64encode(credentials).decode()
    status, body = lights_status_answer(header)
    assert status == 200 and body["data"]["lights"][0]["hold"] is True  # a poll
    light_set_desired(light=reading, on=True)  # an ordinary switch ends it
    reading.refresh_from_db()
    assert reading.desired_hold is False and reading.desired_on is True
    assert "hold" not in light_wire_entry(reading, capability=protocol.LIGHTS_ADAPTIVE)


def test_a_change_made_on_the_device_beats_a_held_desired_state(reading: Any) -> None:
    """Offline, a person switched the light on; meanwhile the hub stored a held target: the
    person's change wins (a conflict with an ordinary desired state is the hub's)."""
    version = reading.desired_version
    light_set_desired(light=reading, state={"brightness": 70, "color_temp_kelvin": 3300}, hold=True)
    entry = protocol.light_entry(
        "Bedroom",
        "Reading",
        {"on": True, "brightness": 255, "color_temp_kelvin": 4000},
        version,
        changed=True,
        cause=protocol.CAUSE_BUTTON,
    )
    resend, _ = light_reports_apply(device=reading.device, entries=[entry])
    reading.refresh_from_db()
    assert (reading.desired_on, reading.desired_brightness, reading.desired_hold) == (True, 255, False)
    assert reading.desired_version == version + 2 and resend
    light_set_desired(light=reading, state={"brightness": 10})
    entry["version"] = reading.desired_version - 1
    light_reports_apply(device=reading.device, entries=[entry])
    reading.refresh_from_db()
    assert reading.desired_brightness == 10  # an ordinary desired state wins the conflict
