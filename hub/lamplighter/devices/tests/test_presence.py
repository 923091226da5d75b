"""Presence: devices that miss their heartbeats go offline; contact brings them back."""

from datetime import timedelta

import pytest
from django.utils import timezone

from factories import DeviceFactory
from lamplighter.devices.models import Device
from lamplighter.devices.services import device_seen, devices_mark_missing_offline

pytestmark = pytest.mark.django_db


def test_missing_heartbeats_mark_offline_once(settings: object) -> None:
    settings.LAMPLIGHTER_HEARTBEAT_INTERVAL = 10  # type: ignore[attr-defined]
    settings.LAMPLIGHTER_MISSED_HEARTBEATS = 3  # type: ignore[attr-defined]
    now = timezone.now()
    quiet = DeviceFactory(online=True, last_seen=now - timedelta(seconds=31), connection="http")
    recent = DeviceFactory(online=True, last_seen=now - timedelta(seconds=29), connection="websocket")
    assert devices_mark_missing_offline(now=now) == 1
    assert devices_mark_missing_offline(now=now) == 0
    quiet.refresh_from_db()
    recent.refresh_from_db()
    assert (quiet.online, quiet.connection) == (False, "")
    assert recent.online


def test_contact_brings_a_device_back() -> None:
    device = DeviceFactory(online=False)
    device_seen(device=device, connection=Device.Connection.HTTP)
    device.refresh_from_db()
    assert device.online and device.last_seen is not None and device.connection == "http"
