"""The seed's /lights_status/ poll, answered straight from ASGI.

It is the hub's hottest HTTP route (every polling device, every few seconds) and needs none
of what Django's middleware stack gives browsers (sessions, CSRF, messages, static files).
Through that stack a request hops between the event loop and worker threads several times
(WhiteNoise is sync-only). Here the device row and its lights come in one statement, read in
the event loop (poll_reader: PostgreSQL's async pool, or SQLite's own read-only connection),
with a thread only when contact must be written or a failure counted. When SQLite's loop
connection finds the database busy (it never waits), the whole answer is asked of the database
thread instead, as before. A database that is away gives 503, as elsewhere.
The Django view in devices.views gives the same answer for the same request (the tests check both).
"""

import asyncio
import itertools
import json
import logging
import sqlite3
import weakref
from functools import cache
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http.request import split_domain_port, validate_host
from psycopg_pool import PoolTimeout
from redis.exceptions import RedisError

from lamplighter import dbthread, metrics, rows
from lamplighter.devices import poll_reader, services
from lamplighter.devices.auth import (
    THROTTLED,
    aaddress_throttled,
    address_throttled,
    authentication_failed,
    parse_basic,
)
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.homes.models import Room
from lamplighter.lights.models import Light
from lamplighter.lights.state import KIND_FIELDS, RICH_LIGHTS, unpack_rgb
from lamplighter.middleware import RETRY_AFTER_SECONDS, UNAVAILABLE
from lamplighter.secrets import secret_matches

logger = logging.getLogger(__name__)

UNAUTHORIZED = {"error": "device credentials required"}
CHALLENGE = 'Basic realm="lamplighter-device", charset="UTF-8"'


# A poll's reads in one statement: the device row (for its secret and presence) and its lights.
# Through the ORM they took ~0.7 ms (two querysets, three models per light), more than the rest
# of the request together; written out and joined, one round trip. Plain SQL both engines run.
@cache
def _poll_sql(many: bool = False) -> str:
    """The read for one device id, or (many, PostgreSQL) for an array of them."""
    devices, lights, rooms = Device._meta.db_table, Light._meta.db_table, Room._meta.db_table
    which = "= ANY(%s)" if many else "= %s"
    return (
        f"SELECT {rows.select_list(Device, 'd')}, r.name, l.name, l.desired_on, l.desired_version, "  # noqa: S608 - names from model metadata; values are bound parameters
        "l.kind, l.desired_brightness, l.desired_color_temp_kelvin, l.desired_rgb, l.min_kelvin, l.max_kelvin, "
        "l.desired_hold "
        f"FROM {devices} d LEFT JOIN {lights} l ON l.device_id = d.id "
        f"LEFT JOIN {rooms} r ON r.id = l.room_id WHERE d.device_id {which} ORDER BY r.name, l.name"
    )


# ---- PostgreSQL: the reads of polls arriving together, in one statement ------------------------

POLL_BATCH_MAX = 100  # device ids per statement
_DEVICE_ID_COLUMN = [field.name for field in Device._meta.concrete_fields].index("device_id")
_read_batches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _PollReads]" = (
    weakref.WeakKeyDictionary()
)


class _PollReads:
    """Device ids waiting for their rows, and the task that reads them.

    Each read is a round trip to PostgreSQL: a send that wakes its server process and a wait for
    the answer, which cost the event loop more than the rest of a poll (bench/README.md). While
    one statement is out, the polls arriving meanwhile wait and go next, together (`= ANY`); a
    lone poll goes at once, as before.
    """

    def __init__(self) -> None:
        self.waiting: dict[str, list[asyncio.Future[list[tuple[Any, ...]]]]] = {}
        self.task: asyncio.Task[None] | None = None

    async def drain(self) -> None:
        while self.waiting:
            ids = list(itertools.islice(self.waiting, POLL_BATCH_MAX))
            batch = {device_id: self.waiting.pop(device_id) for device_id in ids}
            try:
                found = await poll_reader.reader.rows(_poll_sql(many=True), [ids])
            except BaseException as error:  # the read failed for every poll of the batch
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            by_device: dict[str, list[tuple[Any, ...]]] = {}
            for row in found:
                by_device.setdefault(row[_DEVICE_ID_COLUMN], []).append(row)
            for device_id, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(by_device.get(device_id, []))


async def _poll_rows_batched(device_id: str) -> list[tuple[Any, ...]]:
    """_poll_rows on PostgreSQL, sharing a statement with the polls that arrive meanwhile."""
    loop = asyncio.get_running_loop()
    reads = _read_batches.get(loop)
    if reads is None:
        reads = _read_batches[loop] = _PollReads()
    future: asyncio.Future[list[tuple[Any, ...]]] = loop.create_future()
    reads.waiting.setdefault(device_id, []).append(future)
    if reads.task is None or reads.task.done():
        reads.task = loop.create_task(reads.drain())
    return await future


async def _read_poll_rows(device_id: str) -> list[tuple[Any, ...]]:
    if connection.vendor == "postgresql":
        return await _poll_rows_batched(device_id)
    return await poll_reader.reader.rows(_poll_sql(), [device_id])


def _poll_rows(device_id: str) -> list[tuple[Any, ...]]:
    """The device's row joined with each of its lights (one row with NULL lights when it has none)."""
    with connection.cursor() as cursor:
        cursor.execute(_poll_sql(), [device_id])
        return list(cursor.fetchall())


def _credentials(authorization: str | bytes | None) -> tuple[str, str] | None:
    """(device id, secret) when the header could name a device at all."""
    credentials = parse_basic(authorization)
    if credentials is None:
        return None
    return credentials if services.credentials_plausible(*credentials) else None


def _answer(
    found: list[tuple[Any, ...]], credentials: tuple[str, str] | None
) -> tuple[int, dict[str, Any], Device | None]:
    """(status, body, the authenticated device or None) from the poll's rows."""
    if not found or credentials is None:
        return 401, UNAUTHORIZED, None
    device = rows.instance(Device, found[0][: rows.width(Device)])
    if not secret_matches(credentials[1], device.secret_hash):
        return 401, UNAUTHORIZED, None
    light_columns = rows.width(Device)
    if device.lights_capability >= RICH_LIGHTS:
        held = protocol.adaptive_capable(device.lights_capability)
        entries = [
            _rich_entry(row[light_columns:], held) for row in found if row[light_columns + 1] is not None
        ]
    else:
        entries = [
            protocol.light_entry(room, light, protocol.light_state(bool(on)), version)
            for room, light, on, version, *_ in (row[light_columns:] for row in found)
            if light is not None
        ]
    body = protocol.build_hub_welcome(
        device.device_id, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL, entries, protocol.capabilities()
    )
    return 200, body, device


def _rich_entry(columns: tuple[Any, ...], held: bool) -> dict[str, Any]:
    """A light of the poll's read as a hub.welcome entry for a device that takes brightness and
    colour (the light's kind and range included); held: the device takes hold (lights 3)."""
    room, light, on, version, kind, brightness, kelvin, rgb, min_kelvin, max_kelvin, hold = columns
    fields = KIND_FIELDS.get(kind, ())
    state = protocol.light_state(
        bool(on),
        brightness if "brightness" in fields else None,
        kelvin if "color_temp_kelvin" in fields else None,
        unpack_rgb(rgb) if "rgb" in fields else None,
    )
    tunable = kind == protocol.KIND_TUNABLE_WHITE
    return protocol.light_entry(
        room,
        light,
        state,
        version,
        kind=kind,
        kelvin=(min_kelvin, max_kelvin) if tunable else None,
        hold=held and bool(hold),
    )


def lights_status_answer(authorization: str | bytes | None, address: str = "") -> tuple[int, dict[str, Any]]:
    """(status, body) of a poll: the device's desired states as a hub.welcome, 401, or 429."""
    if address_throttled(address):
        return 429, THROTTLED
    credentials = _credentials(authorization)
    status, body, device = _answer(_poll_rows(credentials[0]) if credentials else [], credentials)
    if device is None:
        authentication_failed(address)
    else:
        services.device_seen(device=device, connection=Device.Connection.HTTP)
    return status, body


async def lights_status_answer_async(
    authorization: str | bytes | None, address: str = ""
) -> tuple[int, dict[str, Any]]:
    """lights_status_answer with the read in the event loop, threads only for writes."""
    if await aaddress_throttled(address):
        return 429, THROTTLED
    credentials = _credentials(authorization)
    try:
        found = await _read_poll_rows(credentials[0]) if credentials else []
    except sqlite3.OperationalError as error:
        # SQLite's loop connection does not wait for a lock: the database thread does (its timeout).
        logger.debug("poll: read in the loop failed (%s), asking the database thread", error)
        return await dbthread.run(lights_status_answer, authorization, address)
    status, body, device = _answer(found, credentials)
    if device is None:
        await sync_to_async(authentication_failed, thread_sensitive=False)(address)
    elif not services.device_seen_recently(device=device, connection=Device.Connection.HTTP):
        await dbthread.run(services.device_seen, device=device, connection=Device.Connection.HTTP)
    return status, body


class PollRoute:
    """ASGI middleware: answers GET /lights_status/ itself, passes everything else on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != protocol.HUB_POLL_PATH:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        domain, _ = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            await _respond(send, 400, {"error": "bad host"})
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
            return
        metrics.device_message_received(metrics.TRANSPORT_HTTP, "poll")
        client = scope.get("client") or ("", 0)
        authorization, address = headers.get(b"authorization"), str(client[0])
        try:
            status, body = await lights_status_answer_async(authorization, address)
        except (OperationalError, InterfaceError, psycopg.OperationalError, PoolTimeout, RedisError) as error:
            # The database, or the Redis holding the failure counts, is away: try again, as elsewhere.
            logger.warning("poll: database unavailable: %s", type(error).__name__)
            metrics.DATABASE_ERRORS.inc()
            retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
            await _respond(send, 503, {"detail": UNAVAILABLE}, retry)
            return
        extra = [(b"www-authenticate", CHALLENGE.encode())] if status == 401 else []
        await _respond(send, status, body, extra, head=scope["method"] == "HEAD")


async def _respond(
    send: Any,
    status: int,
    body: dict[str, Any],
    extra: list[tuple[bytes, bytes]] | None = None,
    head: bool = False,
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})
