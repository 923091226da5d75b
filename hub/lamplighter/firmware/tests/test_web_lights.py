"""/control_led and /status for dimmable, tunable-white and colour lights, on a real loopback socket."""

import httpx
import pytest

from .. import protocol
from ..app import Device
from ..hal.host import HostHal
from ..light_output import lightness_to_duty
from ..log import Logger
from .conftest import SECRET, device_config, running_device, wait_until

PERSON = ("dev-test", SECRET)
LIGHTS = [
    {"room": "Hall", "light": "Lamp", "pin": 3},
    {"room": "Hall", "light": "Strip", "kind": "dimmable", "pin": 5},
    {"room": "Bed", "light": "Reading", "kind": "tunable_white", "pins": {"cold": 6, "warm": 7}},
    {"room": "Den", "light": "Shelf", "kind": "rgb", "pins": {"r": 8, "g": 9, "b": 10}},
]


@pytest.fixture
async def device(flash):
    async with running_device(flash, device_config(lights=LIGHTS)) as running:
        yield running


def base(device):
    return "http://127.0.0.1:" + str(device.config["web"]["port"])


async def control(device, auth=PERSON, **params):
    async with httpx.AsyncClient(base_url=base(device), auth=auth) as client:
        return await client.get("/control_led", params=params)


async def test_brightness_colour_temperature_and_rgb(device):
    response = await control(device, room="Hall", light="Strip", action="on", brightness="128")
    assert response.status_code == 200
    assert response.json() == {"room": "Hall", "light": "Strip", "on": True, "brightness": 128, "version": 0}
    assert 11000 < device.hal.duty(5) < 13000  # half the lightness, not half the power
    response = await control(device, room="Bed", light="Reading", action="on", color_temp="6500")
    assert response.json()["color_temp_kelvin"] == 6500 and response.json()["brightness"] == 255
    assert (device.hal.duty(6), device.hal.duty(7)) == (65535, 0)
    response = await control(device, room="Den", light="Shelf", action="on", rgb="255, 0,64")
    assert response.json()["rgb"] == [255, 0, 64]
    assert device.hal.duty(8) == 65535 and device.hal.duty(9) == 0 and 0 < device.hal.duty(10) < 65535
    off = await control(device, room="Den", light="Shelf", action="off")
    assert off.json()["rgb"] == [255, 0, 64] and device.hal.duty(8) == 0
    on = await control(device, room="Den", light="Shelf", action="on")
    assert on.json()["rgb"] == [255, 0, 64] and device.hal.duty(8) == 65535
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        posted = await client.post(
            "/control_led",
            json={"room": "Den", "light": "Shelf", "action": "on", "rgb": [0, 0, 255], "brightness": 10},
        )
    assert posted.json()["rgb"] == [0, 0, 255] and posted.json()["brightness"] == 10
    assert device.store.get("Den", "Shelf")["changed"] is True


async def test_a_transition_fades_in_the_event_loop(device):
    response = await control(device, room="Hall", light="Strip", action="on", transition_ms="600000")
    assert response.status_code == 200 and response.json()["brightness"] == 255
    assert "Hall/Strip" in device.outputs.fades and device.hal.duty(5) < 65535  # a 10-minute fade
    # The fade task steps the output while the web server keeps answering.
    await wait_until(lambda: device.hal.duty(5) > 0)
    assert (await control(device, room="Hall", light="Lamp", action="on")).status_code == 200
    # A new command mid-fade takes over from the output of that moment.
    response = await control(
        device, room="Hall", light="Strip", action="on", brightness="100", transition_ms="200"
    )
    assert response.json()["brightness"] == 100
    await wait_until(lambda: not device.outputs.fades)
    assert device.hal.duty(5) == lightness_to_duty(100 * 257)


async def test_bad_fields_are_400_and_change_nothing(device):
    await control(device, room="Den", light="Shelf", action="on", rgb="10,20,30", brightness="50")
    before = {key: dict(record["state"]) for key, record in device.store.lights.items()}
    duties = dict(device.hal.duties)
    bad = [
        ({"room": "Hall", "light": "Strip", "brightness": "300"}, "brightness"),
        ({"room": "Hall", "light": "Strip", "brightness": "-1"}, "brightness"),
        ({"room": "Hall", "light": "Strip", "brightness": "bright"}, "brightness"),
        ({"room": "Hall", "light": "Strip", "brightness": "9" * 40}, "brightness"),
        ({"room": "Hall", "light": "Strip", "rgb": "1,2,3"}, "rgb"),
        ({"room": "Den", "light": "Shelf", "rgb": "1,2"}, "rgb"),
        ({"room": "Den", "light": "Shelf", "rgb": "1,2,3,4"}, "rgb"),
        ({"room": "Den", "light": "Shelf", "rgb": "red"}, "rgb"),
        ({"room": "Den", "light": "Shelf", "color_temp": "3000"}, "color_temp_kelvin"),
        ({"room": "Bed", "light": "Reading", "color_temp": "9000"}, "2700 to 6500"),
        ({"room": "Hall", "light": "Lamp", "brightness": "10"}, "brightness"),
        ({"room": "Hall", "light": "Lamp", "rgb": "1,2,3"}, "rgb"),
        ({"room": "Hall", "light": "Strip", "transition_ms": "-5"}, "transition_ms"),
        ({"room": "Hall", "light": "Strip", "transition_ms": "99999999999"}, "transition_ms"),
        ({"room": "Hall", "light": "Strip", "transition_ms": "soon"}, "transition_ms"),
    ]
    for params, reason in bad:
        response = await control(device, action="on", **params)
        assert response.status_code == 400, params
        assert reason in response.json()["error"], (params, response.json())
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        for body in (
            {"room": "Den", "light": "Shelf", "action": "on", "rgb": [1, 2]},
            {"room": "Den", "light": "Shelf", "action": "on", "rgb": "1,2,3,x"},
            {"room": "Den", "light": "Shelf", "action": "on", "brightness": True},
            {"room": "Den", "light": "Shelf", "action": "on", "brightness": 2.5},
            {"room": "Den", "light": "Shelf", "action": "on", "transition_ms": [1]},
        ):
            response = await client.post("/control_led", json=body)
            assert response.status_code == 400, body
    hub = (protocol.HUB_LAN_USER, device.lan_token)
    pushed = await control(
        device, hub, room="Hall", light="Strip", action="on", version="3", brightness="256"
    )
    assert pushed.status_code == 400
    assert {key: record["state"] for key, record in device.store.lights.items()} == before
    assert device.hal.duties == duties
    assert all(record["version"] == 0 for record in device.store.lights.values())


async def test_hub_push_with_fields_and_transition(device):
    hub = (protocol.HUB_LAN_USER, device.lan_token)
    response = await control(
        device,
        hub,
        room="Bed",
        light="Reading",
        action="on",
        version="4",
        brightness="200",
        color_temp="3000",
    )
    assert response.json() == {
        "room": "Bed",
        "light": "Reading",
        "on": True,
        "brightness": 200,
        "color_temp_kelvin": 3000,
        "version": 4,
    }
    assert device.store.get("Bed", "Reading")["changed"] is False
    response = await control(
        device, hub, room="Bed", light="Reading", action="off", version="5", transition_ms="300"
    )
    assert response.json()["on"] is False and response.json()["brightness"] == 200
    await wait_until(lambda: device.hal.duty(6) + device.hal.duty(7) == 0)


async def test_the_hubs_control_query_round_trips(device):
    hub = (protocol.HUB_LAN_USER, device.lan_token)
    state = {"on": True, "brightness": 90, "rgb": [12, 34, 56]}
    query = protocol.control_query("Den", "Shelf", state, 7)
    assert query == {
        "room": "Den",
        "light": "Shelf",
        "action": "on",
        "version": "7",
        "brightness": "90",
        "rgb": "12,34,56",
    }
    response = await control(device, hub, **query)
    assert response.json() == dict(state, room="Den", light="Shelf", version=7)
    white = {"on": False, "brightness": 5, "color_temp_kelvin": 3100}
    query = protocol.control_query("Bed", "Reading", white, 8, transition_ms=1500)
    assert query["color_temp"] == "3100" and query["transition_ms"] == "1500" and query["action"] == "off"
    response = await control(device, hub, **query)
    assert response.json() == dict(white, room="Bed", light="Reading", version=8)


async def test_a_held_push_never_switches_and_a_person_is_web_a_hub_cause_only_from_the_hub(device):
    hub = (protocol.HUB_LAN_USER, device.lan_token)
    held = protocol.light_entry(
        "Bed",
        "Reading",
        {"on": True, "brightness": 40, "color_temp_kelvin": 3000},
        9,
        hold=True,
        cause=protocol.CAUSE_ADAPTIVE,
    )
    response = await control(device, hub, **protocol.entry_query(held))
    assert response.json() == {
        "room": "Bed",
        "light": "Reading",
        "on": False,
        "brightness": 40,
        "color_temp_kelvin": 3000,
        "version": 9,
    }
    assert (device.hal.duty(6), device.hal.duty(7)) == (0, 0)
    assert device.store.entry("Bed", "Reading")["cause"] == protocol.CAUSE_ADAPTIVE
    # A person cannot claim a cause, a hold or a version: it is a local change from the page.
    response = await control(device, room="Bed", light="Reading", action="on", cause="ha", hold="1", version="20")
    assert response.json()["on"] is True and response.json()["version"] == 9
    entry = device.store.entry("Bed", "Reading")
    assert entry["cause"] == protocol.CAUSE_WEB and entry["changed"] is True
    stop = protocol.light_entry("Bed", "Reading", {"on": True}, 10, stop=True, cause=protocol.CAUSE_HA)
    response = await control(device, hub, **protocol.entry_query(stop))
    assert response.json()["version"] == 10 and response.json()["brightness"] == 40
    bad = await control(device, hub, **dict(protocol.entry_query(stop), version="11", cause="x" * 17))
    assert bad.status_code == 400 and "cause" in bad.json()["error"]
    both = await control(device, hub, **dict(protocol.entry_query(held), version="11", stop="1"))
    assert both.status_code == 400 and device.store.entry("Bed", "Reading")["version"] == 10


async def test_a_hub_push_with_flash_ms_blinks_in_the_event_loop_and_ends_as_it_was(device):
    hub = (protocol.HUB_LAN_USER, device.lan_token)
    on = protocol.light_entry("Hall", "Strip", {"on": True, "brightness": 90}, 6)
    assert (await control(device, hub, **protocol.entry_query(on))).json()["version"] == 6
    before = device.hal.duty(5)
    flash = protocol.light_entry("Hall", "Strip", {"on": True, "brightness": 90}, 6, flash_ms=1500)
    seen = set()
    response = await control(device, hub, **protocol.entry_query(flash))
    assert response.json() == {"room": "Hall", "light": "Strip", "on": True, "brightness": 90, "version": 6}

    def over():
        seen.add(device.hal.duty(5))
        return not device.store.flashes

    await wait_until(over)
    assert {0, 65535} <= seen  # dark and full
    assert device.hal.duty(5) == before and device._flashing is None
    # A person cannot ask for a flash; a bad one from the hub is a 400 naming it.
    await control(device, room="Hall", light="Strip", action="on", flash_ms="1000")
    assert not device.store.flashes
    bad = await control(device, hub, **dict(protocol.entry_query(flash), flash_ms="70000"))
    assert bad.status_code == 400 and "flash_ms" in bad.json()["error"] and not device.store.flashes


async def test_status_shows_each_kinds_fields(device):
    await control(device, room="Hall", light="Strip", action="on", brightness="40")
    async with httpx.AsyncClient(base_url=base(device), auth=PERSON) as client:
        lights = (await client.get("/status")).json()["lights"]
        page = await client.get("/")
    assert lights == [
        {"room": "Hall", "light": "Lamp", "kind": "onoff", "on": False, "version": 0},
        {"room": "Hall", "light": "Strip", "kind": "dimmable", "on": True, "brightness": 40, "version": 0},
        {
            "room": "Bed",
            "light": "Reading",
            "kind": "tunable_white",
            "on": False,
            "brightness": 255,
            "color_temp_kelvin": 4000,
            "version": 0,
            "kelvin": [2700, 6500],
        },
        {
            "room": "Den",
            "light": "Shelf",
            "kind": "rgb",
            "on": False,
            "brightness": 255,
            "rgb": [255, 255, 255],
            "version": 0,
        },
    ]
    assert "on 15 %" in page.text


async def test_an_onoff_only_device_drives_plain_pins_without_the_fade_machinery(flash):
    config = device_config()  # on/off lights only
    async with running_device(flash, config) as onoff:
        assert not hasattr(onoff.outputs, "fades")  # light_output's LightOutputs is not made
        response = await control(onoff, room="Kitchen", light="Ceiling", action="on")
        assert response.status_code == 200
        assert onoff.hal.pin_get(2) and not onoff.hal.pin_get(3) and onoff.hal.duty(2) == 0
        await control(onoff, room="Hall", light="Lamp", action="toggle")
        assert onoff.hal.pin_get(3)
        await control(onoff, room="Hall", light="Lamp", action="toggle")
        assert not onoff.hal.pin_get(3)
    hal = HostHal(str(flash))
    Device(hal, config, Logger(config["device_id"], hal, echo=False))
    assert hal.pin_get(2) and not hal.pin_get(3)  # restored from flash through the same plain pins


async def test_an_onoff_only_device_flashes_its_plain_pins_too(flash):
    async with running_device(flash, device_config()) as onoff:
        hub = (protocol.HUB_LAN_USER, onoff.lan_token)
        entry = protocol.light_entry("Hall", "Lamp", {"on": False}, 0, flash_ms=1000)
        response = await control(onoff, hub, **protocol.entry_query(entry))
        assert response.status_code == 200 and response.json()["version"] == 0
        seen = set()

        def over():
            seen.add(onoff.hal.pin_get(3))
            return not onoff.store.flashes

        await wait_until(over)
        assert seen == {False, True} and onoff.hal.pin_get(3) is False


def test_a_dimmable_light_brings_the_fade_machinery(device):
    assert hasattr(device.outputs, "fades")
