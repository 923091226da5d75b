"""The device WebSocket, in-process: auth, hello/welcome, delivery, bad frames, presence."""

import asyncio
import base64
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_command_apply
from lamplighter.lights.state import light_command
from lamplighter.serving.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(device_id: str, secret: str) -> WebsocketCommunicator:
    token = base64.b64encode(f"{device_id}:{secret}".encode())
    return WebsocketCommunicator(
        websocket_application, "/ws/device/", headers=[(b"authorization", b"Basic " + token)]
    )


@database_sync_to_async
def make_device() -> tuple[Device, object]:
    room = RoomFactory(name="Porch")
    device = DeviceFactory(home=room.home, secret="porch-secret")
    return device, LightFactory(room=room, name="Lantern", device=device)


async def connect_and_hello(device: Device) -> tuple[WebsocketCommunicator, dict]:
    socket = communicator(device.device_id, "porch-secret")
    connected, _ = await socket.connect()
    assert connected
    await socket.send_to(
        text_data=protocol.encode(protocol.build_device_hello(device.device_id, "1.2.3", "host", []))
    )
    welcome = protocol.parse(await socket.receive_from(timeout=5))
    return socket, welcome


async def test_wrong_secret_is_refused() -> None:
    device, _ = await make_device()
    connected, _ = await communicator(device.device_id, "nope").connect()
    assert not connected
    connected, _ = await WebsocketCommunicator(websocket_application, "/ws/device/").connect()
    assert not connected


async def test_hello_gets_welcome_and_device_goes_online() -> None:
    device, light = await make_device()
    socket, welcome = await connect_and_hello(device)
    assert welcome["type"] == protocol.HUB_WELCOME
    assert welcome["data"]["lights"][0]["light"] == "Lantern"
    refreshed = await Device.objects.aget(pk=device.pk)
    assert refreshed.online and refreshed.connection == "websocket" and refreshed.firmware_version == "1.2.3"
    await socket.disconnect()
    refreshed = await Device.objects.aget(pk=device.pk)
    assert not refreshed.online and refreshed.channel_name == ""


async def test_desired_state_is_delivered_and_the_report_stored() -> None:
    device, light = await make_device()
    socket, _ = await connect_and_hello(device)
    await database_sync_to_async(light_command_apply)(light_id=light.pk, command=light_command({"on": True}))
    command = protocol.parse(await socket.receive_from(timeout=5))
    assert command["type"] == protocol.STATE_SET
    [entry] = command["data"]["lights"]
    assert entry["state"] == {"on": True} and entry["version"] == 2
    report = protocol.build_state_report([protocol.light_entry("Porch", "Lantern", {"on": True}, 2)])
    await socket.send_to(text_data=protocol.encode(report))
    await socket.send_to(text_data=protocol.encode(protocol.build_heartbeat_ping(uptime=5)))
    pong = protocol.parse(await socket.receive_from(timeout=5))
    assert pong["type"] == protocol.HEARTBEAT_PONG
    await light.arefresh_from_db()
    assert (light.reported_on, light.reported_version) == (True, 2)
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    ["{", "[]", json.dumps({"v": 1, "type": "state.set", "data": {"lights": []}}), "null", "\u0000" * 10],
)
async def test_bad_frames_get_a_reject_and_the_socket_keeps_serving(frame: str) -> None:
    device, _ = await make_device()
    socket, _ = await connect_and_hello(device)
    await socket.send_to(text_data=frame)
    reject = json.loads(await socket.receive_from(timeout=5))
    assert reject["type"] == protocol.MESSAGE_REJECT
    await socket.send_to(bytes_data=b"\xff\xfe")
    assert json.loads(await socket.receive_from(timeout=5))["data"]["code"] == protocol.ERROR_BAD_JSON
    await socket.send_to(text_data=protocol.encode(protocol.build_heartbeat_ping()))
    assert protocol.parse(await socket.receive_from(timeout=5))["type"] == protocol.HEARTBEAT_PONG
    await socket.disconnect()


async def test_a_second_connection_replaces_the_first() -> None:
    device, _ = await make_device()
    first, _ = await connect_and_hello(device)
    second, _ = await connect_and_hello(device)
    output = await first.receive_output(timeout=5)
    assert output["type"] == "websocket.close"
    refreshed = await Device.objects.aget(pk=device.pk)
    assert refreshed.online
    await second.disconnect()


async def test_reports_of_many_sockets_at_once_each_get_their_own_answer() -> None:
    @database_sync_to_async
    def make() -> list[tuple[Device, object]]:
        room = RoomFactory(name="Hall")
        made = []
        for i in range(6):
            device = DeviceFactory(home=room.home, secret="porch-secret")
            made.append((device, LightFactory(room=room, name=f"L{i}", device=device)))
        return made

    made = await make()
    sockets = [(await connect_and_hello(device))[0] for device, _ in made]

    def report(i: int) -> str:
        if i == 1:  # a light it does not drive
            entries = [protocol.light_entry("Hall", "Nope", protocol.light_state(True), 1)]
        else:  # i == 2: switched at the device itself; the others: applied version 1
            entries = [protocol.light_entry("Hall", f"L{i}", protocol.light_state(True), 1, i == 2)]
        return protocol.encode(protocol.build_state_report(entries))

    await asyncio.gather(*(socket.send_to(text_data=report(i)) for i, socket in enumerate(sockets)))
    resend = protocol.parse(await sockets[2].receive_from(timeout=5))
    assert resend["type"] == protocol.STATE_SET and resend["data"]["lights"][0]["version"] == 2
    reject = protocol.parse(await sockets[1].receive_from(timeout=5))
    assert reject["type"] == protocol.MESSAGE_REJECT and "Hall/Nope" in reject["data"]["reason"]
    for i, socket in enumerate(sockets):
        if i not in (1, 2):
            assert await socket.receive_nothing(timeout=0.2)
    stored = {light.name: light async for light in Light.objects.filter(room__name="Hall")}
    for i in range(6):
        light = stored[f"L{i}"]
        if i == 1:
            assert light.reported_on is None
        else:
            assert light.reported_on is True and light.reported_version == 1
    assert (stored["L2"].desired_on, stored["L2"].desired_version) == (True, 2)
    for socket in sockets:
        await socket.disconnect()
