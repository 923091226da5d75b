"""Failed device authentications are throttled per client address, on every device route."""

import base64

import httpx
import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from conftest import LiveHub
from factories import DeviceFactory
from lamplighter.serving.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def low_limit(settings: object) -> None:
    settings.LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES = 3  # type: ignore[attr-defined]


def test_message_route_answers_429_after_repeated_failures(low_limit: None) -> None:
    device = DeviceFactory(secret="right-secret")
    client = Client(REMOTE_ADDR="198.51.100.4")
    statuses = [
        client.post(
            "/device/messages/",
            "{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(device.device_id, f"wrong{i}"),
        ).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 401]
    blocked = client.post(
        "/device/messages/",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(device.device_id, "right-secret"),
    )
    assert blocked.status_code == 429 and blocked["Retry-After"]
    elsewhere = Client(REMOTE_ADDR="198.51.100.5")
    assert (
        elsewhere.get(
            "/lights_status/", HTTP_AUTHORIZATION=basic(device.device_id, "right-secret")
        ).status_code
        == 200
    )


def test_poll_route_of_the_live_hub_is_throttled(low_limit: None, live_hub: LiveHub) -> None:
    device = DeviceFactory(secret="right-secret")
    url = live_hub.url + "/lights_status/"
    assert httpx.get(url, auth=(device.device_id, "right-secret")).status_code == 200
    assert [httpx.get(url, auth=(device.device_id, "nope")).status_code for _ in range(3)] == [401, 401, 401]
    assert httpx.get(url, auth=(device.device_id, "right-secret")).status_code == 429


async def test_websocket_refuses_a_throttled_address(settings: object) -> None:
    settings.LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES = 2  # type: ignore[attr-defined]
    from channels.db import database_sync_to_async

    device = await database_sync_to_async(DeviceFactory)(secret="right-secret")

    def socket(secret: str) -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(
            websocket_application,
            "/ws/device/",
            headers=[(b"authorization", basic(device.device_id, secret).encode())],
        )
        communicator.scope["client"] = ("203.0.113.9", 5000)
        return communicator

    for _ in range(2):
        connected, _ = await socket("wrong").connect()
        assert not connected
    connected, _ = await socket("right-secret").connect()
    assert not connected
