"""Tests only: a TCP proxy on loopback that can pass, delay, blackhole or cut traffic on demand."""

import asyncio
import contextlib
import threading

PASS = "pass"  # noqa: S105 - a mode name
BLACKHOLE = "blackhole"  # connections stay open, nothing gets through (a stalled network)
REFUSE = "refuse"  # new connections are closed at once (a host that is down)


class FaultyProxy:
    """Forwards 127.0.0.1:<port> to a target; the mode and delay change while it runs."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = PASS
        self.delay = 0.0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        """The proxy's address as an http URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultyProxy":
        """Listen on a free loopback port."""
        self._thread.start()
        self._ready.wait(5)
        return self

    def cut(self) -> None:
        """Drop every open connection now (the modes decide what happens to new ones)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._close_all)

    def stop(self) -> None:
        """Close everything and stop the thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._close_all()
        self._server.close()
        self._loop.close()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == REFUSE:
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, upstream_writer))
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True
        )
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            while self.mode == BLACKHOLE:
                await asyncio.sleep(0.05)  # hold the bytes: nothing gets through, nothing closes
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()
