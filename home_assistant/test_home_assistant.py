"""A real Home Assistant core against the hub over MQTT: discovery, every kind's service calls,
every way the hub changes a light, scenes, and availability through device, broker and hub
outages. Tests run in order on one system (conftest.py); figures go to FIGURES, never asserted."""

import json
import statistics
import time
from typing import Any

import pytest
from websockets.sync.client import connect

from home_assistant.conftest import BASE, FIGURES, HTTP, UNIT, System, wait_until

LIGHT_FLASH = 8  # Home Assistant's LightEntityFeature bits
LIGHT_TRANSITION = 32
# Kelvin on the wire: exact. Mireds: HA shows whole mireds back (one is at most ~0.7% at 6500 K).
KELVIN_TOLERANCE = 0.0 if UNIT == "kelvin" else 0.01
# Home Assistant's start is part of the first test's setup.
pytestmark = pytest.mark.timeout(600)
CALL_TO_DEVICE: list[float] = []
HUB_TO_HA: list[float] = []


def ms(seconds: float) -> float:
    """Seconds as milliseconds, one decimal."""
    return round(seconds * 1000, 1)


def close_to(value: Any, expected: int, relative: float) -> bool:
    """value within `relative` of expected (an exact match in kelvin, a mired's rounding in mireds)."""
    return isinstance(value, (int, float)) and abs(value - expected) <= expected * relative


def service(
    system: System, key: str, service_name: str, data: dict[str, Any], reported: dict[str, Any]
) -> dict[str, Any]:
    """Call light.<service_name> on the light `key`; wait until the device reports `reported`
    (fields of the hub's REST light) and Home Assistant shows it; return HA's state."""
    assert system.ha is not None and system.watcher is not None
    light = system.light(key)
    entity_id = system.entities[key]
    at = system.ha.call("light", service_name, {"entity_id": entity_id, **data})

    def device_reports() -> bool:
        current = system.hub_light(key)
        return not current["pending"] and all(
            close_to(current[field], value, KELVIN_TOLERANCE)
            if field == "reported_color_temp_kelvin"
            else current[field] == value
            for field, value in reported.items()
        )

    wait_until(device_reports, what=f"{key} to report {reported}")
    seen, _ = system.watcher.wait_for(f"{BASE}/light/{light['id']}/state", lambda payload: True, after=at)
    CALL_TO_DEVICE.append(seen - at)
    return system.ha.wait_state(entity_id, lambda state: _shows(state, reported), after=at)


def _shows(state: dict[str, Any], reported: dict[str, Any]) -> bool:
    """Home Assistant's state shows the reported fields."""
    attributes = state["attributes"]
    if "reported_on" in reported and state["state"] != ("on" if reported["reported_on"] else "off"):
        return False
    if not reported.get("reported_on", True):
        return True
    if "reported_brightness" in reported and attributes.get("brightness") != reported["reported_brightness"]:
        return False
    if "reported_color_temp_kelvin" in reported and not close_to(
        attributes.get("color_temp_kelvin"), reported["reported_color_temp_kelvin"], KELVIN_TOLERANCE
    ):
        return False
    if "reported_rgb" in reported and list(attributes.get("rgb_color") or ()) != reported["reported_rgb"]:
        return False
    return True


def test_every_light_and_the_scene_are_discovered_as_their_kind(system: System) -> None:
    assert system.ha is not None
    modes = {"onoff": "onoff", "dimmable": "brightness", "tunable_white": "color_temp", "rgb": "rgb"}
    for light in system.seed["lights"]:
        state = system.ha.wait_state(
            system.entities[light["key"]], lambda state: state["state"] != "unavailable"
        )
        attributes = state["attributes"]
        assert attributes["supported_color_modes"] == [modes[light["kind"]]], light
        assert attributes["supported_features"] & LIGHT_TRANSITION, light
        if light["kind"] == "tunable_white":
            low, high = attributes["min_color_temp_kelvin"], attributes["max_color_temp_kelvin"]
            # The light's range, exactly in kelvin; in mireds, whole mireds just inside it.
            assert light["min_kelvin"] <= low <= light["min_kelvin"] * (1 + KELVIN_TOLERANCE), attributes
            assert light["max_kelvin"] * (1 - KELVIN_TOLERANCE) <= high <= light["max_kelvin"], attributes
            FIGURES["kelvin_range_in_ha"] = [low, high]
    assert system.entities["scene"].startswith("scene.")
    assert system.ha.log_errors() == []


def test_on_off_and_toggle(system: System) -> None:
    key = "Living room/Ceiling"
    service(system, key, "turn_on", {}, {"reported_on": True})
    service(system, key, "turn_off", {}, {"reported_on": False})
    service(system, key, "toggle", {}, {"reported_on": True})
    service(system, key, "toggle", {}, {"reported_on": False})


def test_brightness_and_brightness_pct_and_transition(system: System) -> None:
    assert system.watcher is not None
    key = "Living room/Reading lamp"
    service(system, key, "turn_on", {"brightness": 128}, {"reported_on": True, "reported_brightness": 128})
    service(system, key, "turn_on", {"brightness_pct": 20}, {"reported_on": True, "reported_brightness": 51})
    at = time.monotonic()
    service(
        system,
        key,
        "turn_on",
        {"brightness": 200, "transition": 1.5},
        {"reported_on": True, "reported_brightness": 200},
    )
    _, command = system.watcher.wait_for(
        f"{BASE}/light/{system.light(key)['id']}/set", lambda payload: b"transition" in payload, after=at
    )
    assert json.loads(command)["transition"] == 1.5
    service(system, key, "turn_off", {"transition": 0.5}, {"reported_on": False})


def test_colour_temperature_inside_the_range_and_outside_it_brought_to_the_nearest_end(
    system: System,
) -> None:
    key = "Kitchen/Ceiling"
    light = system.light(key)
    on = {"reported_on": True}
    state = service(
        system,
        key,
        "turn_on",
        {"color_temp_kelvin": 3000, "brightness": 180},
        {**on, "reported_color_temp_kelvin": 3000},
    )
    assert state["attributes"]["color_mode"] == "color_temp"
    service(system, key, "turn_on", {"color_temp_kelvin": 5600}, {**on, "reported_color_temp_kelvin": 5600})
    # Warmer and colder than the light can: the device runs the nearest end, and HA shows it.
    low = service(
        system,
        key,
        "turn_on",
        {"color_temp_kelvin": 2000},
        {**on, "reported_color_temp_kelvin": light["min_kelvin"]},
    )
    high = service(
        system,
        key,
        "turn_on",
        {"color_temp_kelvin": 9000},
        {**on, "reported_color_temp_kelvin": light["max_kelvin"]},
    )
    FIGURES["ha_shows_for_2000_and_9000_kelvin"] = [
        low["attributes"]["color_temp_kelvin"],
        high["attributes"]["color_temp_kelvin"],
    ]


def test_rgb_and_hs_colours(system: System) -> None:
    key = "Kitchen/Counter strip"
    on = {"reported_on": True}
    state = service(
        system,
        key,
        "turn_on",
        {"rgb_color": [255, 0, 0], "brightness": 255},
        {**on, "reported_rgb": [255, 0, 0]},
    )
    assert state["attributes"]["color_mode"] == "rgb"
    service(system, key, "turn_on", {"hs_color": [240, 100]}, {**on, "reported_rgb": [0, 0, 255]})
    service(
        system,
        key,
        "turn_on",
        {"rgb_color": [10, 200, 30], "transition": 1},
        {**on, "reported_rgb": [10, 200, 30]},
    )


def test_flash_short_and_long_blink_on_the_device_and_end_in_the_lights_state(system: System) -> None:
    assert system.ha is not None and system.watcher is not None
    key = "Living room/Reading lamp"
    service(system, key, "turn_on", {"brightness": 120}, {"reported_on": True, "reported_brightness": 120})
    device_id = system.hub_light(key)["device"]
    for flash, flash_ms in (("short", 2000), ("long", 10000)):
        at = system.ha.call("light", "turn_on", {"entity_id": system.entities[key], "flash": flash})
        system.watcher.wait_for(
            f"{BASE}/light/{system.light(key)['id']}/set", lambda payload: b"flash" in payload, after=at
        )
        # The device blinks it: its log, as it sent it to the hub (the pins: devices/tests/test_flash_end_to_end.py).
        wait_until(
            lambda flash_ms=flash_ms: f"{key} flash {flash_ms} ms" in _device_log(system, device_id),
            what=f"the device to run the {flash} flash",
        )
        # It ends in the light's state: on at 120, confirmed (the flash itself reports nothing).
        wait_until(
            lambda: _confirmed(system.hub_light(key), on=True, brightness=120),
            what="the light confirmed as it was",
        )
        system.ha.wait_state(
            system.entities[key],
            lambda state: _shows(state, {"reported_on": True, "reported_brightness": 120}),
        )
    assert "flash of light" not in system.hub.log.read_text()  # no flash refused or left unsent


def _confirmed(light: dict[str, Any], *, on: bool, brightness: int) -> bool:
    """The hub's REST light reports this state and nothing is pending."""
    return (light["reported_on"], light["reported_brightness"], light["pending"]) == (on, brightness, False)


def _device_log(system: System, device_id: str) -> str:
    """The log lines the device sent the hub (the hub's REST API), one text."""
    headers = {"Authorization": f"Bearer {system.seed['token']}"}
    devices = HTTP.get(f"{system.hub.url}/api/v1/devices", headers=headers, timeout=10).json()
    pk = next(device["id"] for device in devices if device["device_id"] == device_id)
    lines = HTTP.get(f"{system.hub.url}/api/v1/devices/{pk}/logs", headers=headers, timeout=10).json()
    return "\n".join(line["text"] for line in lines)


def test_a_scene_applies_its_lights(system: System) -> None:
    assert system.ha is not None
    at = system.ha.call("scene", "turn_on", {"entity_id": system.entities["scene"]})
    wait_until(
        lambda: (
            system.hub_light("Kitchen/Ceiling")["reported_color_temp_kelvin"] == 2700
            and system.hub_light("Kitchen/Counter strip")["reported_rgb"] == [255, 120, 0]
            and system.hub_light("Living room/Ceiling")["reported_on"] is False
        ),
        what="the scene on the devices",
    )
    system.ha.wait_state(
        system.entities["Kitchen/Counter strip"],
        lambda s: s["attributes"].get("rgb_color") == [255, 120, 0],
        after=at,
    )
    FIGURES["service_call_to_device_report_ms"] = _spread(CALL_TO_DEVICE)


def _hub_change(system: System, key: str, change: Any, check: Any) -> None:
    """Make a change on the hub's side with change(); time until Home Assistant shows check(state)."""
    assert system.ha is not None
    at = time.monotonic()
    change()
    seen = system.ha.wait_state(system.entities[key], check, after=at)
    HUB_TO_HA.append(seen["at"] - at)


def test_changes_made_on_the_hub_follow_in_home_assistant(system: System) -> None:
    token = {"Authorization": f"Bearer {system.seed['token']}"}
    lamp = system.light("Living room/Reading lamp")

    def rest(light_id: int, state: dict[str, Any]) -> None:
        HTTP.post(
            f"{system.hub.url}/api/v1/lights/{light_id}/state", json=state, headers=token, timeout=10
        ).raise_for_status()

    for brightness in (10, 90, 170, 250):
        _hub_change(
            system,
            lamp["key"],
            lambda b=brightness: rest(lamp["id"], {"on": True, "brightness": b}),
            lambda state, b=brightness: state["attributes"].get("brightness") == b,
        )
    strip = system.light("Kitchen/Counter strip")
    _hub_change(
        system,
        strip["key"],
        lambda: rest(strip["id"], {"on": True, "rgb": [0, 255, 0]}),
        lambda state: state["attributes"].get("rgb_color") == [0, 255, 0],
    )
    # The dashboard's own socket (as the page sends light.set).
    with connect(
        system.hub.url.replace("http", "ws") + "/ws/dashboard/",
        additional_headers={"Cookie": system.seed["session_cookie"]},
        origin=system.hub.url,
    ) as socket:
        for ref, on in enumerate((False, True, False)):  # the lamp is on (REST, above)

            def dashboard(on: bool = on, ref: int = ref) -> None:
                socket.send(
                    json.dumps({"type": "light.set", "ref": ref, "light": lamp["id"], "state": {"on": on}})
                )

            _hub_change(
                system, lamp["key"], dashboard, lambda state, on=on: state["state"] == ("on" if on else "off")
            )
    # The device's own /control_led (its web page, a wall button's script).
    ceiling = system.light("Living room/Ceiling")
    device = next(d for d in system.seed["devices"] if d["name"] == ceiling["device"])
    for action, shown in (("on", "on"), ("off", "off"), ("toggle", "on")):
        _hub_change(
            system,
            ceiling["key"],
            lambda action=action: HTTP.get(
                device["url"] + "/control_led",
                params={"room": ceiling["room"], "light": ceiling["name"], "action": action},
                auth=(device["device_id"], device["secret"]),
                timeout=10,
            ).raise_for_status(),
            lambda state, shown=shown: state["state"] == shown,
        )
    FIGURES["hub_to_ha_ms"] = _spread(HUB_TO_HA)


def _spread(seconds: list[float]) -> dict[str, float]:
    return {
        "n": len(seconds),
        "median": ms(statistics.median(seconds)),
        "max": ms(max(seconds)),
    }


def _toggle(system: System, key: str) -> None:
    """light.toggle, and the device runs the other state."""
    service(system, key, "toggle", {}, {"reported_on": not system.hub_light(key)["reported_on"]})


def _lights_of(system: System, device: str | None = None) -> list[str]:
    return [
        system.entities[light["key"]] for light in system.seed["lights"] if device in (None, light["device"])
    ]


def _wait_available(
    system: System, entity_ids: list[str], available: bool, after: float, timeout: float = 60
) -> float:
    """The time the last of the entities became (un)available after `after`."""
    assert system.ha is not None
    last = after
    for entity_id in entity_ids:
        state = system.ha.wait_state(
            entity_id, lambda s: (s["state"] != "unavailable") == available, timeout=timeout, after=after
        )
        last = max(last, state["at"])
    return last


def test_a_stopped_device_makes_its_lights_unavailable_until_it_is_back(system: System) -> None:
    assert system.devices is not None
    name = "demo-1"
    at = time.monotonic()
    system.devices.stop(name)
    _wait_available(system, _lights_of(system, name), False, at)
    at = time.monotonic()
    system.devices.start(name)
    FIGURES["device_restart_to_ha_available_s"] = round(
        _wait_available(system, _lights_of(system, name), True, at) - at, 2
    )


def test_a_broker_restart_is_recovered(system: System) -> None:
    system.broker.stop()
    at = time.monotonic()
    system.broker.start()
    back = _wait_available(system, _lights_of(system), True, at, timeout=120)
    FIGURES["broker_restart_to_ha_available_s"] = round(back - at, 2)
    _toggle(system, "Living room/Ceiling")  # and commands work again


def test_a_clean_hub_restart_is_recovered(system: System) -> None:
    at = time.monotonic()
    system.hub.stop()
    _wait_available(system, _lights_of(system), False, at)
    system.hub.start()
    back = _wait_available(system, _lights_of(system), True, system.hub.started_at)
    FIGURES["hub_restart_to_ha_available_s"] = round(back - system.hub.started_at, 2)


def test_a_crashed_hub_restarted_at_once_takes_its_lease_over(system: System) -> None:
    at = time.monotonic()
    system.hub.kill()
    _wait_available(system, _lights_of(system), False, at)  # the bridge's last will
    system.hub.start()
    back = _wait_available(system, _lights_of(system), True, system.hub.started_at)
    FIGURES["hub_crash_to_ha_available_s"] = round(back - system.hub.started_at, 2)
    assert system.watcher is not None
    online, _ = system.watcher.wait_for(
        f"{BASE}/bridge/status", lambda payload: payload == b"online", after=system.hub.started_at
    )
    FIGURES["hub_crash_to_bridge_online_s"] = round(online - system.hub.started_at, 2)
    FIGURES["hub_crash_to_hub_listening_s"] = round(system.hub.listening_after, 2)
    # Not a lease that ran out (MQTT_LEASE_SECONDS is 30): the new process took the dead one's.
    assert "lease taken over" in system.hub.log.read_text()
    _toggle(system, "Living room/Ceiling")
    assert system.ha is not None and system.ha.log_errors() == []


@pytest.fixture(autouse=True)
def _hub_alive(system: System) -> None:
    """Every test starts with the hub running (a failed outage test must not cascade)."""
    if system.hub.process is None:
        system.hub.start()
