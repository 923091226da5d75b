"""Presence writes are throttled: polls and heartbeats of a device seen recently write nothing."""

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.devices.models import Device
from lamplighter.devices.services import (
    device_disconnected,
    device_heartbeat,
    device_seen,
    seen_write_interval,
)
from lamplighter.firmware import protocol
from lamplighter.gateway.poll import lights_status_answer
from lamplighter.lights import delivery

pytestmark = pytest.mark.django_db


def test_a_device_seen_recently_the_same_way_costs_no_query() -> None:
    device = DeviceFactory()
    device_seen(device=device, connection=Device.Connection.HTTP)
    with CaptureQueriesContext(connection) as queries:
        device_seen(device=device, connection=Device.Connection.HTTP)
        device_heartbeat(device=device, data={"uptime": 5}, connection=Device.Connection.HTTP)
    assert len(queries) == 0


def test_last_seen_is_written_again_before_the_sweep_could_miss_it(settings: object) -> None:
    device = DeviceFactory()
    device_seen(device=device, connection=Device.Connection.WEBSOCKET, channel_name="specific.a!1")
    budget = 15 * 3
    assert seen_write_interval() + 15 < budget  # heartbeat on time: never older than the budget
    device.last_seen = timezone.now() - timedelta(seconds=seen_write_interval() + 1)
    device_heartbeat(device=device, data={"uptime": 99}, connection=Device.Connection.WEBSOCKET)
    stored = Device.objects.get(pk=device.pk)
    assert stored.uptime == 99 and timezone.now() - stored.last_seen < timedelta(seconds=5)


def test_a_socket_the_sweep_gave_up_on_gets_its_channel_back() -> None:
    device = DeviceFactory()
    device_seen(device=device, connection=Device.Connection.WEBSOCKET, channel_name="specific.a!1")
    Device.objects.filter(pk=device.pk).update(online=False, connection="", channel_name="")
    device.last_seen = timezone.now() - timedelta(minutes=5)
    device_heartbeat(device=device, data={}, connection=Device.Connection.WEBSOCKET)
    stored = Device.objects.get(pk=device.pk)
    assert stored.online and stored.channel_name == "specific.a!1"


@pytest.mark.parametrize("touch", ["poll answer", "poll view", "device message"])
def test_a_device_in_touch_over_http_has_no_socket_on_record(touch: str, client: Client) -> None:
    """It fell back to polling: its old socket is dead, so commands go by LAN push or the next poll."""
    room = RoomFactory(name="Office")
    device = DeviceFactory(home=room.home, secret="s3cret", lan_url="http://127.0.0.1:9", lan_token="t")
    light = LightFactory(room=room, name="Desk", device=device)
    device_seen(device=device, connection=Device.Connection.WEBSOCKET, channel_name="specific.dead!1")
    assert delivery.deliver_desired(device=device, lights=[light]) == delivery.PATH_WEBSOCKET
    authorization = "Basic " + base64.b64encode(f"{device.device_id}:s3cret".encode()).decode()
    if touch == "poll answer":
        assert lights_status_answer(authorization)[0] == 200
    elif touch == "poll view":
        assert client.get("/lights_status/", HTTP_AUTHORIZATION=authorization).status_code == 200
    else:
        ping = protocol.encode(protocol.build_heartbeat_ping(uptime=5))
        response = client.post(
            protocol.HUB_MESSAGES_PATH,
            ping,
            content_type="application/json",
            HTTP_AUTHORIZATION=authorization,
        )
        assert response.status_code == 200, response.content
    stored = Device.objects.get(pk=device.pk)
    assert stored.channel_name == "" and stored.online and stored.connection == Device.Connection.HTTP
    assert delivery.deliver_desired(device=stored, lights=[light]) == delivery.PATH_LAN
    # The dead socket closing late changes nothing: the device stays online over HTTP.
    device_disconnected(device=stored, channel_name="specific.dead!1")
    assert Device.objects.get(pk=device.pk).online


def test_a_socket_read_whole_in_its_transaction_is_recorded_without_reading_presence_again(
    django_capture_on_commit_callbacks: object,
) -> None:
    device = DeviceFactory(online=False)
    fresh = Device.objects.get(pk=device.pk)
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        device_seen(
            device=fresh, connection=Device.Connection.WEBSOCKET, channel_name="specific.a!2", fresh=True
        )
    assert [q["sql"].split()[0] for q in queries] == ["UPDATE"]
    assert len(callbacks) == 1  # it was offline: announced online all the same
    stored = Device.objects.get(pk=device.pk)
    assert stored.online and stored.channel_name == "specific.a!2"
