"""The poll's one read, awaited in the event loop: no database thread between a poll and its rows.

Through database threads, 32 devices polling at once queued for a free thread and for the GIL
on every hand-over; those waits, not the query (~0.1 ms), held a process near 1,100 polls/s
(bench/README.md). The read needs no transaction and no ORM, so it skips the threads: on
PostgreSQL through a small async psycopg pool, on SQLite on a read-only connection of its own
queried in place (one indexed join, tens of microseconds, no I/O wait worth a thread; WAL keeps
the writer thread from blocking it). Writes (recording contact, rare: see
services.device_seen_recently) still go through the ORM.
"""

import asyncio
import sqlite3
from typing import Any, Protocol

from django.db import connections
from psycopg_pool import AsyncConnectionPool

from lamplighter.infra.sqlite_backend.base import qmark_style

POOL_MAX_SIZE = 4  # connections per worker: a poll holds one for a single round trip
POOL_TIMEOUT_SECONDS = 5.0  # then the poll is answered 503, like any request when the database is away
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary result codes of a lock held elsewhere


class PollReader(Protocol):
    """What the poll needs of a reader."""

    async def rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """All rows of `sql` (Django's %s placeholders)."""

    async def close(self) -> None:
        """Release the connections (server shutdown); a later read opens new ones."""


class AsyncPollReader:
    """PostgreSQL: runs a read-only statement on the event loop's own pool (opened on first use)."""

    def __init__(self) -> None:
        self._pool: AsyncConnectionPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[None] | None = None

    async def rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """All rows of `sql`; prepared once per connection (PostgreSQL then skips the planning)."""
        pool = await self._pool_of_this_loop()
        async with pool.connection(timeout=POOL_TIMEOUT_SECONDS) as connection:
            cursor = connection.cursor()
            await cursor.execute(sql, params, prepare=True)
            return await cursor.fetchall()

    async def close(self) -> None:
        """Close the pool (server shutdown); a later read opens a new one."""
        pool, self._pool, self._loop, self._opening = self._pool, None, None, None
        if pool is not None:
            await pool.close()

    async def _pool_of_this_loop(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            # A pool belongs to the loop that opened it; the first read of a loop opens one.
            self._pool, self._loop = _new_pool(), loop
            self._opening = loop.create_task(self._pool.open(wait=False))
        if self._opening is not None:
            opening = self._opening
            await asyncio.shield(opening)
            if self._opening is opening:
                self._opening = None
        return self._pool


def _new_pool() -> AsyncConnectionPool:
    """A pool with the connection settings Django uses (adapters included: aware datetimes)."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)  # Django's is synchronous and binds on the client
    params["autocommit"] = True
    return AsyncConnectionPool(
        kwargs=params, min_size=1, max_size=POOL_MAX_SIZE, open=False, name="lamplighter-poll"
    )


class SqlitePollReader:
    """SQLite: runs a read-only statement in place on the event loop's own connection.

    The connection never waits for a lock (busy timeout 0): when SQLite answers busy (rare in
    WAL mode), or cannot read the file, sqlite3.OperationalError reaches the caller at once,
    which then asks the database thread (devices.poll), so the loop is never held up.
    """

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """All rows of `sql`; sqlite3 keeps the statement prepared (its per-connection cache)."""
        connection = self._connection_of_this_loop()
        try:
            cursor = connection.execute(qmark_style(sql), params)
            try:
                # Read to the end: the statement is reset, its snapshot released (the next poll sees new commits).
                return cursor.fetchall()
            finally:
                cursor.close()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in _BUSY:
                self._forget(connection)  # not a passing lock (file away, I/O error): the next read reopens
            raise

    async def close(self) -> None:
        """Close the connection (server shutdown); a later read opens a new one."""
        if self._connection is not None:
            self._forget(self._connection)

    def _connection_of_this_loop(self) -> sqlite3.Connection:
        loop = asyncio.get_running_loop()
        if self._connection is None or self._loop is not loop:
            # Used only by the loop that opened it, so never by two threads at once.
            self._connection, self._loop = _sqlite_connect(), loop
        return self._connection

    def _forget(self, connection: sqlite3.Connection) -> None:
        if self._connection is connection:
            self._connection, self._loop = None, None
        connection.close()


def _sqlite_connect() -> sqlite3.Connection:
    """A connection like Django's (file, detect_types: the same converters), but read-only and never waiting."""
    params = connections["default"].get_connection_params()
    params["timeout"] = 0  # busy: fail at once (the database thread then waits, not the loop)
    params["isolation_level"] = None  # autocommit: each read sees every commit before it
    connection = sqlite3.connect(**params)
    try:
        connection.execute("PRAGMA query_only = ON")
    except sqlite3.Error:
        connection.close()
        raise
    return connection


def _reader_for(vendor: str) -> PollReader:
    return SqlitePollReader() if vendor == "sqlite" else AsyncPollReader()


reader: PollReader = _reader_for(connections["default"].vendor)
