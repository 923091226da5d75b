"""The hub link against a fake hub on loopback: hello/welcome, state.set, heartbeats, reconnects, polling."""

import asyncio

import httpx

from .. import protocol
from ..backoff import Backoff
from .conftest import SECRET, device_config, free_port, running_device, wait_until
from .fake_hub import FakeHub

KITCHEN = ("Kitchen", "Ceiling")
HALL = ("Hall", "Lamp")


def fast():
    """Hub-client timings that keep each test within a few seconds."""
    return {"backoff": Backoff(base=0.05, cap=0.2, floor=0.01), "hello_timeout": 2}


def light(device, key):
    return device.store.get(*key)


async def test_hello_welcome_and_report(flash):
    hub = await FakeHub("dev-test", SECRET, lights={KITCHEN: [True, 3], HALL: [False, 1]}).start_websocket()
    try:
        async with running_device(flash, device_config([hub.url]), fast()) as device:
            await wait_until(lambda: hub.of_type(protocol.STATE_REPORT))
            [hello] = hub.of_type(protocol.DEVICE_HELLO)
            data = hello["data"]
            assert data["device_id"] == "dev-test" and data["board"] == "host"
            assert data["lan_token"] == device.lan_token and data["lan_url"] == device.config["lan_url"]
            assert data["mode"] == protocol.MODE_LOCAL
            assert {(e["room"], e["light"]) for e in data["lights"]} == {KITCHEN, HALL}
            assert light(device, KITCHEN)["state"] == {"on": True} and light(device, KITCHEN)["version"] == 3
            assert device.hal.pins[2] is True
            reported = hub.of_type(protocol.STATE_REPORT)[0]["data"]["lights"]
            assert {(e["room"], e["version"]) for e in reported} == {("Kitchen", 3), ("Hall", 1)}
            assert device.hub.status == {
                "connected": True,
                "url": hub.url,
                "transport": "websocket",
                "mode": "local",
            }
    finally:
        await hub.stop()


async def test_state_set_is_applied_and_reported_and_stale_ignored(flash):
    hub = await FakeHub("dev-test", SECRET, lights={KITCHEN: [False, 1], HALL: [False, 1]}).start_websocket()
    try:
        async with running_device(flash, device_config([hub.url]), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            await hub.push(hub.set_desired(*KITCHEN, True))
            await wait_until(lambda: light(device, KITCHEN)["version"] == 2)
            assert device.hal.pins[2] is True
            await wait_until(
                lambda: any(
                    e["version"] == 2 and e["state"]["on"]
                    for m in hub.of_type(protocol.STATE_REPORT)
                    for e in m["data"]["lights"]
                )
            )
            reports = len(hub.of_type(protocol.STATE_REPORT))
            await hub.push(
                protocol.build_state_set([protocol.light_entry("Kitchen", "Ceiling", {"on": False}, 1)])
            )
            await hub.push(protocol.build_message_reject(protocol.ERROR_BAD_DATA, "just testing"))
            await hub.push(
                protocol.build_state_set([protocol.light_entry("Garage", "Door", {"on": True}, 5)])
            )
            await asyncio.sleep(0.3)
            assert light(device, KITCHEN)["state"] == {"on": True}
            assert len(hub.of_type(protocol.STATE_REPORT)) == reports
            assert any("just testing" in line for line in device.hal.display_lines)
    finally:
        await hub.stop()


async def test_heartbeats_and_dead_hub_detection(flash):
    hub = await FakeHub("dev-test", SECRET, heartbeat_interval=1).start_websocket()
    try:
        async with running_device(flash, device_config([hub.url]), fast()) as device:
            await wait_until(lambda: len(hub.of_type(protocol.HEARTBEAT_PING)) >= 2, timeout=4)
            ping = hub.of_type(protocol.HEARTBEAT_PING)[0]["data"]
            assert set(ping) == {"uptime", "free_memory", "rssi"}
            assert hub.connections == 1
            hub.answer_pings = False  # the hub hangs: socket open, no pongs
            await wait_until(lambda: hub.connections >= 2, timeout=5)
            hub.answer_pings = True
            await wait_until(lambda: device.hub.status["connected"])
    finally:
        await hub.stop()


async def test_reconnects_after_the_hub_goes_away(flash):
    hub = await FakeHub("dev-test", SECRET).start_websocket()
    port = hub.port
    try:
        async with running_device(flash, device_config([hub.url]), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            await hub.drop_connections()
            await wait_until(lambda: hub.connections == 2)
            await hub.stop()
            await wait_until(lambda: not device.hub.status["connected"])
            await asyncio.sleep(0.3)  # several failed attempts, spaced by the backoff
            hub = await FakeHub("dev-test", SECRET).start_websocket(port)
            await wait_until(lambda: device.hub.status["connected"])
            assert len(hub.of_type(protocol.DEVICE_HELLO)) == 1
    finally:
        await hub.stop()


async def test_local_change_while_away_is_reported_on_reconnect(flash):
    hub = await FakeHub("dev-test", SECRET, lights={HALL: [False, 4], KITCHEN: [False, 1]}).start_websocket()
    port = hub.port
    try:
        config = device_config([hub.url])
        async with running_device(flash, config, fast()) as device:
            await wait_until(lambda: light(device, HALL)["version"] == 4)
            desired = dict(hub.desired)
            await hub.stop()
            await wait_until(lambda: not device.hub.status["connected"])
            async with httpx.AsyncClient(auth=("dev-test", SECRET)) as client:
                response = await client.get(
                    config["lan_url"] + "/control_led",
                    params={"room": "Hall", "light": "Lamp", "action": "on"},
                )
            assert response.json() == {"room": "Hall", "light": "Lamp", "on": True, "version": 4}
            hub = await FakeHub("dev-test", SECRET, lights=desired).start_websocket(port)
            await wait_until(lambda: light(device, HALL)["version"] == 5)
            [hello] = hub.of_type(protocol.DEVICE_HELLO)
            [hall] = [e for e in hello["data"]["lights"] if e["room"] == "Hall"]
            assert hall == protocol.light_entry(
                "Hall", "Lamp", {"on": True}, 4, changed=True, kind="onoff", cause=protocol.CAUSE_WEB
            )
            assert hub.desired[HALL] == [True, 5]
            assert light(device, HALL)["changed"] is False and light(device, HALL)["state"] == {"on": True}
    finally:
        await hub.stop()


async def test_local_change_while_connected_is_reported_at_once(flash):
    hub = await FakeHub("dev-test", SECRET, lights={HALL: [False, 2], KITCHEN: [False, 1]}).start_websocket()
    try:
        config = device_config([hub.url])
        async with running_device(flash, config, fast()) as device:
            await wait_until(lambda: device.hub.status["connected"] and light(device, HALL)["version"] == 2)
            device.local_action("Hall", "Lamp", protocol.ACTION_TOGGLE)
            await wait_until(lambda: light(device, HALL)["version"] == 3)
            assert any(
                e.get("changed") and e["version"] == 2
                for m in hub.of_type(protocol.STATE_REPORT)
                for e in m["data"]["lights"]
            )
            assert hub.desired[HALL] == [True, 3]
    finally:
        await hub.stop()


async def test_state_survives_a_device_restart(flash):
    hub = await FakeHub("dev-test", SECRET, lights={HALL: [True, 7], KITCHEN: [False, 1]}).start_websocket()
    try:
        config = device_config([hub.url])
        async with running_device(flash, config, fast()) as device:
            await wait_until(lambda: light(device, HALL)["version"] == 7)
            token = device.lan_token
        await hub.stop()
        async with running_device(flash, config, fast()) as device:
            assert light(device, HALL)["state"] == {"on": True} and light(device, HALL)["version"] == 7
            assert device.hal.pins[3] is True
            assert device.lan_token == token
    finally:
        await hub.stop()


async def test_falls_back_to_polling_when_the_websocket_is_refused(flash):
    hub = await FakeHub("dev-test", SECRET, lights={HALL: [True, 2], KITCHEN: [False, 1]}).start_polling()
    try:
        async with running_device(flash, device_config([hub.url]), fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            assert device.hub.status["transport"] == "http"
            assert light(device, HALL)["version"] == 2
            await wait_until(lambda: hub.polls >= 2)
            hub.set_desired(*KITCHEN, True)
            await wait_until(lambda: light(device, KITCHEN)["version"] == 2)
            await wait_until(
                lambda: any(
                    e["room"] == "Kitchen" and e["version"] == 2
                    for m in hub.of_type(protocol.STATE_REPORT)
                    for e in m["data"]["lights"]
                )
            )
            device.local_action("Hall", "Lamp", protocol.ACTION_OFF)
            await wait_until(lambda: hub.desired[HALL] == [False, 3] and light(device, HALL)["version"] == 3)
    finally:
        await hub.stop()


async def test_forced_http_transport_and_lan_push(flash):
    hub = await FakeHub("dev-test", SECRET, lights={HALL: [False, 1], KITCHEN: [False, 1]}).start_websocket()
    try:
        config = device_config([hub.url], transport="http", poll_interval=5)
        async with running_device(flash, config, fast()) as device:
            # The fake hub only speaks WebSocket, so HTTP requests fail: the device keeps trying.
            await asyncio.sleep(0.3)
            assert hub.connections == 0 and not device.hub.status["connected"]
            async with httpx.AsyncClient(auth=(protocol.HUB_LAN_USER, device.lan_token)) as client:
                response = await client.get(
                    config["lan_url"] + "/control_led",
                    params={"room": "Hall", "light": "Lamp", "action": "on", "version": "2"},
                )
            assert response.json()["version"] == 2 and device.hal.pins[3] is True
    finally:
        await hub.stop()


async def test_bad_credentials_do_not_fall_back_and_the_next_hub_is_tried(flash):
    hub = await FakeHub("dev-test", "another-secret").start_websocket()
    unreachable = "http://127.0.0.1:" + str(free_port())
    good = await FakeHub("dev-test", SECRET).start_websocket()
    try:
        config = device_config([unreachable, hub.url, good.url])
        async with running_device(flash, config, fast()) as device:
            await wait_until(lambda: device.hub.status["connected"])
            assert device.hub.status["url"] == good.url
            assert hub.refusals >= 1 and hub.connections == 0
            assert any("refused the device credentials" in line for line in device.hal.display_lines)
            assert not any(SECRET in line for line in device.hal.display_lines)
    finally:
        await hub.stop()
        await good.stop()


async def test_no_hub_at_all_keeps_the_device_working(flash):
    config = device_config(["http://127.0.0.1:" + str(free_port())])
    async with running_device(flash, config, fast()) as device:
        await asyncio.sleep(0.3)
        assert device.hub.backoff.attempt >= 1
        async with httpx.AsyncClient(auth=("dev-test", SECRET)) as client:
            response = await client.get(
                config["lan_url"] + "/control_led", params={"room": "Hall", "light": "Lamp", "action": "on"}
            )
        assert response.status_code == 200 and device.hal.pins[3] is True
