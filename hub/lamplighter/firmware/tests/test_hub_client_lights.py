"""The hub link with light kinds: capabilities both ways, rich states, transitions, refused states."""

import asyncio

import httpx

from .. import protocol
from ..backoff import Backoff
from .conftest import SECRET, device_config, running_device, wait_until
from .fake_hub import FakeHub

STRIP = ("Hall", "Strip")
SHELF = ("Den", "Shelf")
LIGHTS = [
    {"room": "Hall", "light": "Strip", "kind": "dimmable", "pin": 5},
    {"room": "Den", "light": "Shelf", "kind": "rgb", "pins": {"r": 8, "g": 9, "b": 10}},
]


def fast():
    return {"backoff": Backoff(base=0.05, cap=0.2, floor=0.01), "hello_timeout": 2}


def reported(hub, key):
    """Every state the hub received for a light in a state.report, in order."""
    return [
        entry["state"]
        for message in hub.of_type(protocol.STATE_REPORT)
        for entry in message["data"]["lights"]
        if (entry["room"], entry["light"]) == key
    ]


async def local(device, **params):
    async with httpx.AsyncClient(auth=("dev-test", SECRET)) as client:
        return await client.get(device.config["lan_url"] + "/control_led", params=params)


async def test_hello_describes_the_lights_and_an_older_hub_gets_on_off_only(flash):
    hub = await FakeHub("dev-test", SECRET, lights={STRIP: [True, 2], SHELF: [False, 1]}).start_websocket()
    try:
        async with running_device(flash, device_config([hub.url], lights=LIGHTS), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            [hello] = hub.of_type(protocol.DEVICE_HELLO)
            assert protocol.lights_capability(hello["data"]) == protocol.LIGHTS_CAPABILITY
            kinds = {(e["room"], e["light"]): e["kind"] for e in hello["data"]["lights"]}
            assert kinds == {STRIP: "dimmable", SHELF: "rgb"}
            assert device.hub.hub_lights == 1
            # The welcome's plain {"on": true} kept the strip's brightness.
            assert device.store.get(*STRIP)["state"] == {"on": True, "brightness": 255}
            await local(device, room="Hall", light="Strip", action="on", brightness="30")
            await wait_until(lambda: {"on": True} in reported(hub, STRIP)[1:])
            assert all(set(state) == {"on"} for state in reported(hub, STRIP))
    finally:
        await hub.stop()


async def test_a_hub_that_knows_kinds_gets_full_states_and_can_fade(flash):
    hub = FakeHub("dev-test", SECRET, lights={STRIP: [False, 1], SHELF: [False, 1]})
    hub.capabilities = protocol.capabilities()
    await hub.start_websocket()
    try:
        async with running_device(flash, device_config([hub.url], lights=LIGHTS), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            assert device.hub.hub_lights == protocol.LIGHTS_CAPABILITY
            await local(device, room="Hall", light="Strip", action="on", brightness="30")
            await wait_until(lambda: {"on": True, "brightness": 30} in reported(hub, STRIP))
            state = {"on": True, "brightness": 200, "rgb": [0, 255, 0]}
            hub.desired[SHELF] = [True, 5]  # what the hub's desired state now is
            await hub.push(
                protocol.build_state_set([protocol.light_entry("Den", "Shelf", state, 5, transition_ms=300)])
            )
            await wait_until(lambda: state in reported(hub, SHELF))
            assert device.store.get(*SHELF)["version"] == 5
            await wait_until(lambda: device.hal.duty(9) > 0 and not device.outputs.fades)
            assert (device.hal.duty(8), device.hal.duty(10)) == (0, 0)
    finally:
        await hub.stop()


async def test_a_state_the_light_cannot_take_is_ignored_and_logged(flash):
    hub = FakeHub("dev-test", SECRET, lights={STRIP: [True, 1], SHELF: [False, 1]})
    hub.capabilities = protocol.capabilities()
    await hub.start_websocket()
    try:
        async with running_device(flash, device_config([hub.url], lights=LIGHTS), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            reports = len(hub.of_type(protocol.STATE_REPORT))
            hub.desired[STRIP] = [True, 3]
            duty = device.hal.duty(5)
            colour = protocol.light_entry("Hall", "Strip", {"on": True, "rgb": [1, 2, 3]}, 2)
            await hub.push(protocol.build_state_set([colour]))
            too_bright = protocol.light_entry("Hall", "Strip", {"on": True, "brightness": 300}, 3)
            await hub.push(protocol.build_state_set([too_bright]))
            await wait_until(
                lambda: any("refused" in line and "rgb" in line for line in device.hal.display_lines)
            )
            await wait_until(lambda: any("brightness" in line for line in device.hal.display_lines))
            await asyncio.sleep(0.2)
            assert device.store.get(*STRIP)["state"] == {"on": True, "brightness": 255}
            assert device.store.get(*STRIP)["version"] == 1 and device.hal.duty(5) == duty
            assert len(hub.of_type(protocol.STATE_REPORT)) == reports
    finally:
        await hub.stop()
