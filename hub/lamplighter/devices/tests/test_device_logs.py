"""Device logs: log.batch stored (bounded per device), shown by the API and the log page, pushed live."""

import pytest
from django.test import Client

from factories import DeviceFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.devices import services
from lamplighter.devices.models import Device, DeviceLogLine
from lamplighter.firmware import protocol
from lamplighter.gateway import handlers

pytestmark = pytest.mark.django_db


def batch(count: int, start: int = 0, dropped: int = 0) -> str:
    lines = [
        protocol.log_line(start + i, 10 + i, "INFO", f"INFO dev: line {start + i}") for i in range(count)
    ]
    return protocol.encode(protocol.build_log_batch(lines, dropped))


def test_batches_are_stored_and_answered_with_nothing() -> None:
    device = DeviceFactory()
    replies, accepted = handlers.receive(device, batch(3, dropped=2), Device.Connection.WEBSOCKET)
    assert accepted and replies == []
    texts = list(DeviceLogLine.objects.filter(device=device).values_list("text", flat=True))
    assert texts == [
        "(2 lines dropped on the device)",
        "INFO dev: line 0",
        "INFO dev: line 1",
        "INFO dev: line 2",
    ]


def test_only_the_newest_lines_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "DEVICE_LOG_KEEP", 5)
    device, other = DeviceFactory(), DeviceFactory()
    handlers.receive(other, batch(2), Device.Connection.HTTP)
    for start in range(0, 12, 4):
        handlers.receive(device, batch(4, start), Device.Connection.HTTP)
    kept = list(DeviceLogLine.objects.filter(device=device).values_list("seq", flat=True))
    assert kept == [7, 8, 9, 10, 11]
    assert DeviceLogLine.objects.filter(device=other).count() == 2


def test_bad_batches_are_rejected() -> None:
    device = DeviceFactory()
    bad = protocol.encode(protocol.build_log_batch([protocol.log_line(0, 0, "LOUD", "x")]))
    replies, accepted = handlers.receive(device, bad, Device.Connection.HTTP)
    assert not accepted and replies[0]["data"]["code"] == protocol.ERROR_BAD_DATA


def test_api_and_page_show_recent_lines(client: Client) -> None:
    owner, stranger = UserFactory(), UserFactory()
    device = DeviceFactory(home__owner=owner)
    handlers.receive(device, batch(2), Device.Connection.HTTP)
    _, token = api_token_create(user=owner)
    lines = client.get(f"/api/v1/devices/{device.pk}/logs", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [line["text"] for line in lines] == ["INFO dev: line 0", "INFO dev: line 1"]
    client.force_login(owner)
    page = client.get(f"/devices/{device.pk}/log/")
    assert page.status_code == 200 and b"INFO dev: line 1" in page.content
    assert f'data-device-log="{device.pk}"'.encode() in page.content
    client.force_login(stranger)
    assert client.get(f"/devices/{device.pk}/log/").status_code == 404


def test_each_line_gets_the_time_it_happened_and_the_page_shows_it() -> None:
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from factories import HomeFactory

    owner = UserFactory()
    device = DeviceFactory(home=HomeFactory(owner=owner))
    lines = [protocol.log_line(1, 100, "INFO", "booted"), protocol.log_line(2, 160, "WARN", "wifi weak")]
    before = timezone.now()
    handlers.receive(device, protocol.encode(protocol.build_log_batch(lines)), Device.Connection.WEBSOCKET)
    first, second = DeviceLogLine.objects.filter(device=device).order_by("seq")
    # The newest line arrived now; the other was logged 60 s of uptime before it.
    assert before <= second.happened_at <= timezone.now()
    assert second.happened_at - first.happened_at == timedelta(seconds=60)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("dashboard:device-log", args=[device.pk])).content.decode()
    assert f'datetime="{first.happened_at.isoformat()}"' in page
    assert "100 s" not in page and " s</span>" not in page
