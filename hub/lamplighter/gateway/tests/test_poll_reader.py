"""lamplighter.gateway.poll_reader's SQLite reader: Django's rows, read in place, never waiting, never writing."""

import asyncio
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, connections
from django.utils import timezone

from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.gateway import poll, poll_reader

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's loop reader")


@pytest.mark.django_db(transaction=True)
def test_rows_are_those_of_djangos_connection_and_a_loop_has_its_own() -> None:
    room = RoomFactory(name="Study")
    device = DeviceFactory(home=room.home, online=True, last_seen=timezone.now())
    LightFactory(room=room, name="Desk", device=device, desired_on=True)
    LightFactory(room=room, name="Shelf", device=device, desired_on=False)
    reader = poll_reader.SqlitePollReader()

    async def read() -> tuple[list[tuple[object, ...]], sqlite3.Connection | None]:
        return await reader.rows(poll._poll_sql(), [device.device_id]), reader._connection

    found, first = asyncio.run(read())
    expected = poll._poll_rows(device.device_id)
    assert len(found) == 2 and found == expected
    for row, django_row in zip(found, expected, strict=True):  # the same converters (detect_types)
        assert [type(value) for value in row] == [type(value) for value in django_row]
    again, second = asyncio.run(read())
    assert again == found and second is not None and second is not first  # opened by the loop that uses it
    asyncio.run(reader.close())
    assert reader._connection is None
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        second.execute("SELECT 1")


def test_a_lock_held_elsewhere_fails_at_once_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.execute("INSERT INTO t VALUES (1)")
    setup.close()
    params = connections["default"].get_connection_params()
    assert params["timeout"] >= 1  # Django's own connection would wait that long for the lock
    database = SimpleNamespace(get_connection_params=lambda: {**params, "database": str(path)})
    monkeypatch.setattr(poll_reader, "connections", {"default": database})
    reader = poll_reader.SqlitePollReader()

    async def scenario() -> None:
        # Another connection holds the database exclusively (WAL readers are otherwise never blocked).
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("INSERT INTO t VALUES (2)")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await reader.rows("SELECT x FROM t WHERE x >= %s ORDER BY x", [1])
        # No busy wait in the event loop: the reader's connection gives up on a lock at once.
        assert reader._connection is not None
        assert reader._connection.execute("PRAGMA busy_timeout").fetchone() == (0,)
        holder.close()
        assert await reader.rows("SELECT x FROM t WHERE x >= %s ORDER BY x", [1]) == [(1,), (2,)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.rows("INSERT INTO t VALUES (%s)", [3])
        await reader.close()

    asyncio.run(scenario())
    check = sqlite3.connect(path)
    assert check.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
    check.close()
