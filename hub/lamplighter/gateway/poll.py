"""The seed's /lights_status/ poll: the answer of the async view devices.views.lights_status.

It is the hub's hottest HTTP route (every polling device, every few seconds). The device row and
its lights come in one statement, read in the event loop (poll_reader: PostgreSQL's async pool,
or SQLite's own read-only connection), with the database thread only when contact must be
written or a failure counted. When SQLite's loop connection finds the database busy (it never
waits), the whole answer is asked of the database thread instead. The welcome itself is built by
lights.selectors.device_welcome, as for every other hub.welcome.
"""

import asyncio
import itertools
import logging
import sqlite3
import weakref
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection

from lamplighter.devices import services
from lamplighter.devices.auth import (
    THROTTLED,
    aaddress_throttled,
    address_throttled,
    authentication_failed,
    parse_basic,
)
from lamplighter.devices.models import Device
from lamplighter.gateway import poll_reader
from lamplighter.homes.models import Room
from lamplighter.infra import dbthread, rows
from lamplighter.infra.secret_hashing import secret_matches
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import device_welcome

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
        f"SELECT {rows.select_list(Device, 'd')}, {rows.select_list(Light, 'l')}, {rows.select_list(Room, 'r')} "  # noqa: S608 - names from model metadata; values are bound parameters
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
    device_end = rows.width(Device)
    device = rows.instance(Device, found[0][:device_end])
    if not secret_matches(credentials[1], device.secret_hash):
        return 401, UNAUTHORIZED, None
    light_end = device_end + rows.width(Light)
    lights = []
    for row in found:
        if row[device_end] is None:  # the device drives no light (the outer join's one row)
            continue
        light = rows.instance(Light, row[device_end:light_end])
        light.room = rows.instance(Room, row[light_end:])
        lights.append(light)
    return 200, device_welcome(device=device, lights=lights), device


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
    if dbthread.under_sync_caller():
        # The test client: the loop's own connection would not see the caller's transaction.
        return await dbthread.run(lights_status_answer, authorization, address)
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
