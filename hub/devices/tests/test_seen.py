"""Presence writes are throttled: polls and heartbeats of a device seen recently write nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devices.models import Device
from devices.services import device_heartbeat, device_seen, seen_write_interval
from factories import DeviceFactory

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
