"""The dashboard WebSocket, in-process: who may connect, which events reach whom, bad frames."""

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from factories import DEFAULT_TEST_PASSWORD, HomeFactory, UserFactory
from lamplighter.homes.models import Home
from lamplighter.infra import realtime
from lamplighter.serving.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")


@database_sync_to_async
def user_with_home() -> tuple[User, Home, str]:
    """A user, their home, and their session cookie."""
    user = UserFactory()
    home = HomeFactory(owner=user)
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_TEST_PASSWORD)
    return user, home, client.cookies["sessionid"].value


def dashboard_socket(session: str | None, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    headers = [origin, (b"host", b"localhost")]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return WebsocketCommunicator(websocket_application, "/ws/dashboard/", headers=headers)


async def publish(home_id: int, event: dict) -> None:
    await get_channel_layer().group_send(  # type: ignore[union-attr]
        realtime.home_group(home_id), {"type": realtime.HOME_EVENT, "events": [event]}
    )


async def test_anonymous_is_refused() -> None:
    connected, _ = await dashboard_socket(None).connect()
    assert not connected


async def test_a_bad_session_is_refused() -> None:
    connected, _ = await dashboard_socket("not-a-session").connect()
    assert not connected


async def test_bad_origin_is_refused() -> None:
    _, _, session = await user_with_home()
    connected, _ = await dashboard_socket(session, origin=(b"origin", b"http://evil.example")).connect()
    assert not connected


async def test_user_gets_events_of_their_homes_only() -> None:
    _, home, session = await user_with_home()
    _, other_home, _ = await user_with_home()
    socket = dashboard_socket(session)
    connected, _ = await socket.connect()
    assert connected
    await publish(other_home.pk, realtime.light_state_event({"id": 99, "home_id": other_home.pk}))
    event = realtime.device_presence_event({"id": 7, "home_id": home.pk, "online": False})
    await publish(home.pk, event)
    assert await socket.receive_json_from(timeout=3) == event
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_every_event_of_a_fan_out_reaches_the_dashboard_in_order() -> None:
    _, home, session = await user_with_home()
    socket = dashboard_socket(session)
    assert (await socket.connect())[0]
    events = [realtime.light_state_event({"id": n, "home_id": home.pk}) for n in range(1000)]
    # From sync code, as the services publish: more events than a channel holds messages (100).
    await sync_to_async(realtime.publish_many_to_home)(home.pk, events)
    received: list[dict] = []
    while len(received) < len(events):
        frame = await socket.receive_json_from(timeout=3)
        assert isinstance(frame, list) and len(frame) > 1  # events published together share a frame
        received += frame
    assert received == events
    assert await socket.receive_nothing(timeout=0.2)
    await socket.disconnect()


async def test_ping_gets_pong() -> None:
    _, _, session = await user_with_home()
    socket = dashboard_socket(session)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame", ["{", "null", "[1, 2]", '{"type": "light.state"}', "\u0000" * 10, '"ping"', b"\xff\xfe"]
)
async def test_malformed_frames_are_ignored(frame: str | bytes) -> None:
    _, home, session = await user_with_home()
    socket = dashboard_socket(session)
    assert (await socket.connect())[0]
    if isinstance(frame, bytes):
        await socket.send_to(bytes_data=frame)
    else:
        await socket.send_to(text_data=frame)
    assert await socket.receive_nothing(timeout=0.2)
    # Still serving: it answers pings and forwards events.
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    event = realtime.light_state_event({"id": 1, "home_id": home.pk})
    await publish(home.pk, event)
    assert await socket.receive_json_from(timeout=3) == event
    await socket.disconnect()


async def test_after_disconnect_nothing_is_delivered() -> None:
    _, home, session = await user_with_home()
    socket = dashboard_socket(session)
    assert (await socket.connect())[0]
    await socket.disconnect()
    layer = get_channel_layer()
    assert layer is not None
    # The group is empty again: a publish reaches nobody.
    await publish(home.pk, realtime.light_state_event({"id": 1, "home_id": home.pk}))
    assert not getattr(layer, "groups", {}).get(realtime.home_group(home.pk))


async def test_a_tab_sets_a_light_over_its_socket_with_the_apis_checks() -> None:
    from lamplighter.lights.models import Light
    from lamplighter.lights.services import light_create

    user, home, session = await user_with_home()
    stranger_home = await database_sync_to_async(HomeFactory)()

    @database_sync_to_async
    def lights() -> tuple[Light, Light]:
        from factories import RoomFactory

        mine = light_create(room=RoomFactory(home=home, name="Hall"), name="Strip", kind="dimmable")
        theirs = light_create(room=RoomFactory(home=stranger_home, name="Den"), name="Other", kind="dimmable")
        return mine, theirs

    mine, theirs = await lights()
    socket = dashboard_socket(session)
    connected, _ = await socket.connect()
    assert connected
    asks = [
        ({"on": True, "brightness": 90}, mine.pk, 202),
        ({"brightness": 300}, mine.pk, 422),
        ({"rgb": [1, 2, 3]}, mine.pk, 422),  # not a colour light
        ({}, mine.pk, 422),
        ({"brightness": 10}, theirs.pk, 404),  # another home's light
        ({"brightness": 10}, "7", 404),
    ]
    for ref, (state, light_id, status) in enumerate(asks):
        await socket.send_json_to({"type": realtime.LIGHT_SET, "ref": ref, "light": light_id, "state": state})
        while True:  # the light.state events of the change come on the same socket
            answer = await socket.receive_json_from(timeout=5)
            if answer.get("type") == realtime.LIGHT_SET_RESULT:
                break
        assert (answer["ref"], answer["status"]) == (ref, status), answer
        if status == 202:
            assert answer["light"]["desired_brightness"] == 90 and answer["light"]["pending"] is True
        else:
            assert answer["detail"]
    await socket.disconnect()
    stored = await database_sync_to_async(
        lambda: list(Light.objects.order_by("pk").values_list("desired_brightness", "desired_version"))
    )()
    assert stored == [(90, mine.desired_version + 1), (255, theirs.desired_version)]
