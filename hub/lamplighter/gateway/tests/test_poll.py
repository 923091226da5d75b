"""/lights_status/ as the hub serves it (the async view devices.views.lights_status, behind Django's
middleware chain), over a real server."""

import asyncio
import sqlite3
from base64 import b64encode
from typing import Any

import httpx
import psycopg
import pytest
import redis
from django.db import OperationalError, connection
from django.test import AsyncClient

from conftest import LiveHub
from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import poll

pytestmark = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's loop reader")


def test_the_poll_answers_the_devices_lights(live_hub: LiveHub) -> None:
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
        if connection.vendor == "sqlite":  # the loop's read, then the database thread's (below)
            raise sqlite3.OperationalError("unable to open database file")
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(poll.poll_reader.reader, "rows", unreachable)
    monkeypatch.setattr(poll, "_poll_rows", unavailable)  # SQLite's fallback through the database thread
    if away == "redis":  # the failure counts of several workers (REDIS_URL)

        def no_redis(address: str) -> bool:
            raise redis.exceptions.ConnectionError("connection refused")

        async def ano_redis(address: str) -> bool:
            return no_redis(address)

        monkeypatch.setattr(poll, "address_throttled", no_redis)
        monkeypatch.setattr(poll, "aaddress_throttled", ano_redis)
    response = await AsyncClient().get(
        protocol.HUB_POLL_PATH, headers={"Authorization": "Basic " + b64encode(b"dev-x:secret").decode()}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert b"try again" in response.content


def _lights(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["lights"])


def test_the_loop_reader_sees_what_another_connection_committed(
    live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_thread(authorization: object, address: str = "") -> tuple[int, dict[str, Any]]:
        raise AssertionError("answered through the database thread, not the event loop")

    monkeypatch.setattr(poll, "lights_status_answer", no_thread)  # SQLite's fallback: must not be needed
    room = RoomFactory(name="Den")
    device = DeviceFactory(home=room.home, secret="den-secret")
    light = LightFactory(room=room, name="Lamp", device=device, desired_on=False)
    with httpx.Client(base_url=live_hub.url) as client:
        for on in (False, True, False, True):
            if on != light.desired_on:
                light.desired_on = on
                light.desired_version += 1
                light.save(update_fields=["desired_on", "desired_version"])  # committed: no test transaction
            polled = _lights(client.get("/lights_status/", auth=(device.device_id, "den-secret")))
            assert polled == [
                {"room": "Den", "light": "Lamp", "state": {"on": on}, "version": light.desired_version}
            ]
        light.delete()
        assert _lights(client.get("/lights_status/", auth=(device.device_id, "den-secret"))) == []


@sqlite_only
def test_a_busy_database_in_the_loop_is_answered_through_the_database_thread(
    live_hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def busy(sql: str, params: list[object]) -> list[tuple[object, ...]]:
        raise sqlite3.OperationalError("database is locked")

    threaded = []
    answer = poll.lights_status_answer

    def counted(authorization: Any, address: str = "") -> tuple[int, dict[str, Any]]:
        threaded.append(address)
        return answer(authorization, address)

    monkeypatch.setattr(poll.poll_reader.reader, "rows", busy)
    monkeypatch.setattr(poll, "lights_status_answer", counted)
    room = RoomFactory(name="Porch")
    device = DeviceFactory(home=room.home, secret="porch-secret")
    LightFactory(room=room, name="Lantern", device=device, desired_on=True)
    with httpx.Client(base_url=live_hub.url) as client:
        polled = _lights(client.get("/lights_status/", auth=(device.device_id, "porch-secret")))
        assert [(entry["light"], entry["state"]) for entry in polled] == [("Lantern", {"on": True})]
        refused = client.get("/lights_status/", auth=(device.device_id, "wrong"))
        assert refused.status_code == 401
    assert len(threaded) == 2
    device.refresh_from_db()
    assert device.online and device.connection == Device.Connection.HTTP  # contact written by the thread


async def test_polls_arriving_together_share_one_read_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[list[str]] = []

    async def rows(sql: str, params: list[object]) -> list[tuple[object, ...]]:
        ids = list(params[0])  # type: ignore[call-overload]
        statements.append(ids)
        await asyncio.sleep(0.01)  # a round trip, while more polls arrive
        if "dev-broken" in ids:
            raise psycopg.OperationalError("connection lost")
        found = []
        for device_id in ids:
            if device_id != "dev-unknown":
                for light in ("a", "b"):
                    row: list[object] = [None] * (rows_width + 4)
                    row[poll._DEVICE_ID_COLUMN] = device_id
                    row[rows_width + 1] = light
                    found.append(tuple(row))
        return found

    from lamplighter.infra import rows as rows_module

    rows_width = rows_module.width(Device)
    monkeypatch.setattr(poll.poll_reader.reader, "rows", rows)
    first = asyncio.ensure_future(poll._poll_rows_batched("dev-0"))
    await asyncio.sleep(0)
    asked = ["dev-1", "dev-2", "dev-2", "dev-unknown", *[f"dev-{n}" for n in range(3, 9)]]
    answers = await asyncio.gather(first, *(poll._poll_rows_batched(device_id) for device_id in asked))
    assert statements == [["dev-0"], ["dev-1", "dev-2", "dev-unknown", *[f"dev-{n}" for n in range(3, 9)]]]
    for device_id, found in zip(["dev-0", *asked], answers, strict=True):
        expected = [] if device_id == "dev-unknown" else [device_id, device_id]
        assert [row[poll._DEVICE_ID_COLUMN] for row in found] == expected
        assert [row[rows_width + 1] for row in found] == ([] if not expected else ["a", "b"])
    # A read that fails fails every poll that shared it (each then answers 503), and the next goes on.
    statements.clear()
    lone = asyncio.ensure_future(poll._poll_rows_batched("dev-0"))
    await asyncio.sleep(0)
    shared = [poll._poll_rows_batched("dev-broken"), poll._poll_rows_batched("dev-1")]
    results = await asyncio.gather(lone, *shared, return_exceptions=True)
    assert len(results[0]) == 2  # type: ignore[arg-type]
    assert all(isinstance(result, psycopg.OperationalError) for result in results[1:])
    assert len(await poll._poll_rows_batched("dev-1")) == 2


def test_a_nul_in_the_credentials_is_refused_before_any_query(live_hub: LiveHub) -> None:
    # PostgreSQL's text cannot hold NUL: the query would fail (a 500) instead of refusing the device.
    from lamplighter.devices.services import credentials_plausible, device_authenticate

    device = DeviceFactory(secret="nul-secret")
    assert credentials_plausible(device.device_id, "nul-secret")
    assert not credentials_plausible(device.device_id + "\x00", "nul-secret")
    assert not credentials_plausible(device.device_id, "nul-secret\x00")
    assert device_authenticate(device_id="dev\x00x", secret="nul-secret") is None
    with httpx.Client(base_url=live_hub.url) as client:
        for user, password in (("dev\x00x", "nul-secret"), (device.device_id, "nul\x00secret")):
            encoded = b64encode(f"{user}:{password}".encode()).decode()
            refused = client.get("/lights_status/", headers={"Authorization": f"Basic {encoded}"})
            assert refused.status_code == 401
        assert client.get("/lights_status/", auth=(device.device_id, "nul-secret")).status_code == 200
