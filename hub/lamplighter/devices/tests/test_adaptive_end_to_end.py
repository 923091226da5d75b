"""End to end for adaptive lighting's device half (docs/protocol.md, "Adaptive lighting"): a real
hub, the real firmware with its PWM duties, on both runtimes. A held target while off, switched on
at it by the hub, the page's route and the button; a held fade never switching a light on, a light
turned off mid-fade staying off, a stop, and a person's change ending the fade, reported with its
cause and what it changed."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.firmware.light_output import duties, target_vector
from lamplighter.infra import realtime
from lamplighter.lights import services as light_services
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create, light_set_desired
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "adaptive-end-to-end-device-secret"  # noqa: S105 - test fixture
KELVIN = [2700, 6500]
COLD, WARM, BUTTON = 6, 7, 12
HOUR_MS = protocol.MAX_TRANSITION_MS


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Bedroom")
    device = DeviceFactory(home=room.home, secret=SECRET)
    reading = light_create(room=room, name="Reading", kind="tunable_white", device=device)
    return owner, device, reading


@pytest.fixture
def manual_changes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[str], str]]:
    """What the lights' write watcher are given: (light id, parts, cause)."""
    seen: list[tuple[int, list[str], str]] = []
    monkeypatch.setattr(
        light_services.write_watcher,
        "device_manual_change",
        lambda light, parts, cause: seen.append((light.pk, list(parts), cause)),
    )
    return seen


def boot(
    start_device: Callable[..., Any], tmp_path: Path, hub: LiveHub, device: Device, **config: object
) -> Any:
    simulated = start_device(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub.url],
        lights=[
            {
                "room": "Bedroom",
                "light": "Reading",
                "kind": "tunable_white",
                "pins": {"cold": COLD, "warm": WARM},
                "kelvin": KELVIN,
                "button": BUTTON,
            }
        ],
        **config,
    )
    wait_for(
        lambda: Device.objects.get(pk=device.pk).lights_capability >= protocol.LIGHTS_ADAPTIVE,
        15,
        "the device's hello with lights 3",
    )
    return simulated


def white(on: bool, brightness: int, kelvin: int) -> dict[str, Any]:
    return {"on": on, "brightness": brightness, "color_temp_kelvin": kelvin}


def expected_duties(brightness: int, kelvin: int) -> list[int]:
    """The cold and warm duties the firmware shows for this state."""
    kind = protocol.KIND_TUNABLE_WHITE
    return list(duties(kind, target_vector(kind, white(True, brightness, kelvin)), KELVIN))


def shown(simulated: Any) -> list[int]:
    return [simulated.duty(COLD), simulated.duty(WARM)]


def reported(light: Light, state: dict[str, Any], cause: str) -> Callable[[], bool]:
    """True once the hub stores this reported state and cause and the light is not pending."""

    def check() -> bool:
        light.refresh_from_db()
        return (
            light.reported_on == state["on"]
            and light.reported_brightness == state["brightness"]
            and light.reported_color_temp_kelvin == state["color_temp_kelvin"]
            and light.reported_cause == cause
            and not light.pending
        )

    return check


def entries_since(reports: list[dict[str, Any]], mark: int) -> list[dict[str, Any]]:
    return [entry for entry in reports[mark:] if entry["light"] == "Reading"]


def hold(light: Light, brightness: int, kelvin: int, transition_ms: int | None = None) -> None:
    """The adaptive planner's command: a held target (never switches the light)."""
    light_set_desired(
        light=light,
        state={"brightness": brightness, "color_temp_kelvin": kelvin},
        transition_ms=transition_ms,
        hold=True,
        cause=protocol.CAUSE_ADAPTIVE,
    )


def control(simulated: Any, device: Device, **params: object) -> dict[str, Any]:
    """A person on the device's /control_led."""
    answer = httpx.get(
        simulated.url + protocol.DEVICE_CONTROL_PATH,
        params={"room": "Bedroom", "light": "Reading", **params},
        auth=(device.device_id, SECRET),
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def switch(hub: LiveHub, owner: object, light: Light, on: bool) -> None:
    with api_client(hub, owner) as client:
        answer = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": on})
        assert answer.status_code == 202, answer.text
        version = answer.json()["desired_version"]

    def confirmed() -> bool:
        light.refresh_from_db()
        return light.reported_version == version and not light.pending

    wait_for(confirmed, 10, "the switch's report")


def test_switched_on_at_the_held_target_by_the_hub_and_by_control_led(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path, reports: list
) -> None:
    owner, device, reading = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    hold(reading, 90, 3000)
    wait_for(reported(reading, white(False, 90, 3000), protocol.CAUSE_ADAPTIVE), 10, "the held target")
    assert shown(simulated) == [0, 0]
    assert reading.desired_on is False

    mark = len(reports)
    switch(live_hub, owner, reading, True)
    entries = entries_since(reports, mark)
    assert entries and all(entry["state"] == white(True, 90, 3000) for entry in entries), entries
    assert shown(simulated) == expected_duties(90, 3000)

    switch(live_hub, owner, reading, False)
    hold(reading, 200, 5000)
    wait_for(reported(reading, white(False, 200, 5000), protocol.CAUSE_ADAPTIVE), 10, "the next target")
    assert shown(simulated) == [0, 0]
    mark = len(reports)
    answer = control(simulated, device, action="on")
    assert answer["on"] is True and (answer["brightness"], answer["color_temp_kelvin"]) == (200, 5000)
    assert shown(simulated) == expected_duties(200, 5000)
    wait_for(reported(reading, white(True, 200, 5000), protocol.CAUSE_WEB), 10, "the page's switch")
    entries = entries_since(reports, mark)
    assert entries and all(entry["state"] == white(True, 200, 5000) for entry in entries), entries
    assert not any(entry.get("manual") for entry in entries)  # switching alone pauses nothing


def test_switched_on_by_the_button_during_a_held_fade_it_comes_on_where_the_fade_is(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path, reports: list
) -> None:
    _, device, reading = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    hold(reading, 40, 2700)
    wait_for(reported(reading, white(False, 40, 2700), protocol.CAUSE_ADAPTIVE), 10, "the held target")
    hold(reading, 240, 6500, transition_ms=HOUR_MS)  # an hour's fade while the light is off
    wait_for(reported(reading, white(False, 240, 6500), protocol.CAUSE_ADAPTIVE), 10, "the held fade")
    assert simulated.control("held", "Bedroom", "Reading")["fading"] is True
    assert shown(simulated) == [0, 0]

    mark = len(reports)
    simulated.control("press", BUTTON)
    wait_for(reported(reading, white(True, 240, 6500), protocol.CAUSE_BUTTON), 10, "the button's switch")
    cold, warm = shown(simulated)
    # Straight to the fade's point (an hour's fade, seconds in: about 40 and 2700 K), not to its end.
    assert sum(expected_duties(40, 2700)) <= cold + warm <= sum(expected_duties(45, 2700))
    assert cold < warm
    held = simulated.control("held", "Bedroom", "Reading")
    assert held["fading"] is True and 40 <= held["point"]["brightness"] < 45
    entries = entries_since(reports, mark)
    assert entries and all(entry["state"] == white(True, 240, 6500) for entry in entries), entries
    assert all(entry.get("cause") == protocol.CAUSE_BUTTON for entry in entries)


def test_a_held_fade_never_switches_a_light_on_and_one_turned_off_mid_fade_stays_off(
    live_hub: LiveHub, home: tuple, start_device: Callable[..., Any], tmp_path: Path, reports: list
) -> None:
    owner, device, reading = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    mark = len(reports)
    hold(reading, 250, 6000, transition_ms=1500)
    wait_for(reported(reading, white(False, 250, 6000), protocol.CAUSE_ADAPTIVE), 10, "the held fade")
    wait_for(lambda: not simulated.control("held", "Bedroom", "Reading")["fading"], 10, "the fade's end")
    assert shown(simulated) == [0, 0]
    assert simulated.light("Bedroom", "Reading")["state"]["on"] is False
    assert all(not entry["state"]["on"] for entry in entries_since(reports, mark))

    # Even a held entry that says on (a hub that thought the light was on) leaves it off.
    reading.refresh_from_db()
    version = reading.desired_version + 1
    entry = protocol.light_entry(
        "Bedroom", "Reading", white(True, 90, 3000), version, transition_ms=1000, hold=True
    )
    mark = len(reports)
    realtime.send_to_device(device.device_id, protocol.build_state_set([entry]))
    wait_for(lambda: simulated.light("Bedroom", "Reading")["version"] >= version, 10, "the held entry")

    def settled() -> bool:  # the hub saw a version ahead of its own, and sent its state past it
        reading.refresh_from_db()
        return reading.desired_version > version and not reading.pending

    wait_for(settled, 10, "the hub's answer")
    entries = entries_since(reports, mark)
    assert any(entry["version"] == version for entry in entries)
    assert all(not entry["state"]["on"] for entry in entries), entries
    assert shown(simulated) == [0, 0]

    switch(live_hub, owner, reading, True)
    hold(reading, 60, 3000, transition_ms=HOUR_MS)
    wait_for(reported(reading, white(True, 60, 3000), protocol.CAUSE_ADAPTIVE), 10, "the fade while on")
    answer = control(simulated, device, action="off")
    assert answer["on"] is False
    wait_for(reported(reading, white(False, 60, 3000), protocol.CAUSE_WEB), 10, "the page's off")
    wait_for(lambda: shown(simulated) == [0, 0], 10, "the light going dark")
    held = simulated.control("held", "Bedroom", "Reading")
    assert held["fading"] is True  # the held target goes on moving while the light is off
    assert held["point"]["on"] is False
    reading.refresh_from_db()
    assert reading.desired_on is False and reading.reported_on is False

    # The hub ends the fade where it is: the device reports that point, which the hub adopts.
    point = simulated.control("held", "Bedroom", "Reading")["point"]
    light_set_desired(light=reading, stop=True)

    def adopted() -> bool:
        reading.refresh_from_db()
        return (
            not reading.pending
            and reading.desired_version == reading.reported_version
            and reading.desired_brightness == reading.reported_brightness
            and reading.reported_on is False
            and abs(reading.desired_brightness - point["brightness"]) <= 2  # type: ignore[operator]
        )

    wait_for(adopted, 10, "the stopped point adopted by the hub")
    assert simulated.control("held", "Bedroom", "Reading")["fading"] is False
    assert shown(simulated) == [0, 0]


def test_a_persons_change_ends_the_fade_and_is_reported_with_its_cause(
    live_hub: LiveHub,
    home: tuple,
    start_device: Callable[..., Any],
    tmp_path: Path,
    reports: list,
    manual_changes: list,
) -> None:
    owner, device, reading = home
    simulated = boot(start_device, tmp_path, live_hub, device)
    switch(live_hub, owner, reading, True)
    hold(reading, 40, 2700)
    wait_for(reported(reading, white(True, 40, 2700), protocol.CAUSE_ADAPTIVE), 10, "the start")
    hold(reading, 240, 6500, transition_ms=HOUR_MS)
    wait_for(reported(reading, white(True, 240, 6500), protocol.CAUSE_ADAPTIVE), 10, "the fade")
    assert simulated.control("held", "Bedroom", "Reading")["fading"] is True

    mark = len(reports)
    answer = control(simulated, device, action="on", brightness=100)
    assert answer["brightness"] == 100 and answer["color_temp_kelvin"] < 2800  # the colour stays where it was
    assert simulated.control("held", "Bedroom", "Reading")["fading"] is False
    kelvin = answer["color_temp_kelvin"]
    wait_for(
        lambda: manual_changes == [(reading.pk, [protocol.MANUAL_BRIGHTNESS], protocol.CAUSE_WEB)],
        10,
        "the hook",
    )
    wait_for(reported(reading, white(True, 100, kelvin), protocol.CAUSE_WEB), 10, "the person's change")
    assert reading.desired_brightness == 100  # the hub adopted it
    [first, *_] = entries_since(reports, mark)
    assert first["changed"] is True and first["manual"] == [protocol.MANUAL_BRIGHTNESS]
    assert shown(simulated) == expected_duties(100, kelvin)

    # A change asked through Home Assistant is reported with its cause; the hub's own are never "manual".
    hold(reading, 240, 6500, transition_ms=HOUR_MS)
    wait_for(lambda: simulated.control("held", "Bedroom", "Reading")["fading"], 10, "a new fade")
    light_set_desired(light=reading, state={"color_temp_kelvin": 4000}, cause=protocol.CAUSE_HA)
    wait_for(reported(reading, white(True, 240, 4000), protocol.CAUSE_HA), 10, "Home Assistant's change")
    assert simulated.control("held", "Bedroom", "Reading")["fading"] is False
    assert shown(simulated) == expected_duties(240, 4000)
    assert len(manual_changes) == 1
