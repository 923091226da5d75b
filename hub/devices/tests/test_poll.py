"""/lights_status/ as the hub serves it (devices.poll.PollRoute, before Django), over a real server."""

from base64 import b64encode

import httpx
import psycopg
import pytest
import redis
from django.db import OperationalError

from conftest import LiveHub
from devices import poll
from devices.models import Device
from factories import DeviceFactory, LightFactory, RoomFactory
from firmware import protocol

pytestmark = pytest.mark.django_db(transaction=True)


def test_poll_route_answers_like_the_django_view(live_hub: LiveHub) -> None:
    room = RoomFactory(name="Office")
    device = DeviceFactory(home=room.home, secret="office-secret")
    light = LightFactory(room=room, name="Desk", device=device, desired_on=True)
    LightFactory(room=RoomFactory(home=room.home, name="Attic"), name="Bulb", device=device)
    with httpx.Client(base_url=live_hub.url) as client:
        response = client.get("/lights_status/", auth=(device.device_id, "office-secret"))
        assert response.status_code == 200
        message = protocol.validate(response.json())
        assert message["type"] == protocol.HUB_WELCOME
        assert message["data"]["lights"] == [
            {"room": "Attic", "light": "Bulb", "state": {"on": False}, "version": 1},
            {"room": "Office", "light": "Desk", "state": {"on": True}, "version": light.desired_version},
        ]
        for auth in ((device.device_id, "wrong"), ("dev-nobody", "office-secret"), None):
            refused = client.get("/lights_status/", auth=auth)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert client.post("/lights_status/", auth=(device.device_id, "office-secret")).status_code == 405
        assert client.get("/lights_status/", headers={"Host": "evil.example"}).status_code == 400
    device.refresh_from_db()
    assert device.online and device.connection == Device.Connection.HTTP


def test_repeated_polls_record_contact_once_and_a_device_without_lights_gets_none(live_hub: LiveHub) -> None:
    room = RoomFactory(name="Hall")
    device = DeviceFactory(home=room.home, secret="hall-secret")
    LightFactory(room=room, name="Lamp", device=device)
    bare = DeviceFactory(home=room.home, secret="bare-secret")
    with httpx.Client(base_url=live_hub.url) as client:
        seen = []
        for _ in range(3):
            response = client.get("/lights_status/", auth=(device.device_id, "hall-secret"))
            assert response.status_code == 200
            assert [entry["light"] for entry in response.json()["data"]["lights"]] == ["Lamp"]
            device.refresh_from_db()
            assert device.online
            seen.append(device.last_seen)
        assert seen[0] is not None and seen == [seen[0]] * 3  # within the write interval: no rewrite
        empty = client.get("/lights_status/", auth=(bare.device_id, "bare-secret"))
        assert empty.status_code == 200 and empty.json()["data"]["lights"] == []


@pytest.mark.parametrize("away", ["database", "redis"])
async def test_a_database_that_is_away_gives_503_not_500(monkeypatch: pytest.MonkeyPatch, away: str) -> None:
    def unavailable(device_id: str) -> list[tuple[object, ...]]:
        raise OperationalError("database is locked")

    async def unreachable(sql: str, params: list[object]) -> list[tuple[object, ...]]:
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(poll, "_poll_rows", unavailable)  # SQLite's path
    monkeypatch.setattr(poll.poll_reader.reader, "rows", unreachable)  # PostgreSQL's
    if away == "redis":  # the failure counts of several workers (REDIS_URL)

        def no_redis(address: str) -> bool:
            raise redis.exceptions.ConnectionError("connection refused")

        async def ano_redis(address: str) -> bool:
            return no_redis(address)

        monkeypatch.setattr(poll, "address_throttled", no_redis)
        monkeypatch.setattr(poll, "aaddress_throttled", ano_redis)
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": protocol.HUB_POLL_PATH,
        "headers": [(b"host", b"localhost"), (b"authorization", b"Basic " + b64encode(b"dev-x:secret"))],
        "client": ("127.0.0.1", 5000),
    }
    await poll.PollRoute(app=None)(scope, None, send)
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"2") in sent[0]["headers"]  # type: ignore[operator]
    assert b"try again" in sent[1]["body"]  # type: ignore[operator]
