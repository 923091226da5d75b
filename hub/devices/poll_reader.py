"""The poll's one read on PostgreSQL, awaited in the event loop on a small async psycopg pool.

Through database threads, 32 devices polling at once queued for a free thread and for the GIL
on every hand-over; those waits, not the query (~0.1 ms), held a process near 1,100 polls/s
(bench/README.md). The read needs no transaction and no ORM, so it skips the threads. Writes
(recording contact, rare: see services.device_seen_recently) still go through the ORM.
"""

import asyncio
from typing import Any

from django.db import connections
from psycopg_pool import AsyncConnectionPool

POOL_MAX_SIZE = 4  # connections per worker: a poll holds one for a single round trip
POOL_TIMEOUT_SECONDS = 5.0  # then the poll is answered 503, like any request when the database is away


class AsyncPollReader:
    """Runs a read-only statement on the event loop's own pool (opened on first use)."""

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


reader = AsyncPollReader()
