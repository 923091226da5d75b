"""A minimal device that speaks the protocol over a WebSocket, for scale tests and benchmarks.

Not the firmware (hub/lamplighter/firmware/ is the real device and the simulator): thousands of these fit in
one process. It says hello, applies every newer desired state at once and reports it, sends
heartbeats, and reconnects (to the next hub URL in its list) when its socket drops.
"""

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from typing import Any

import websockets

from lamplighter.firmware import protocol

RECONNECT_DELAY = 0.2


def basic_authorization(device_id: str, secret: str) -> str:
    """The Authorization header value for a device's credentials."""
    return "Basic " + base64.b64encode(f"{device_id}:{secret}".encode()).decode()


class ProtocolDevice:
    """One device: its lights' state and version, kept in memory."""

    def __init__(
        self,
        device_id: str,
        secret: str,
        lights: list[tuple[str, str]],
        hub_urls: list[str],
        heartbeat: bool = True,
        on_applied: Callable[["ProtocolDevice", dict[str, Any], float], None] | None = None,
        kinds: dict[tuple[str, str], str] | None = None,
    ) -> None:
        """kinds: the kind of each light that is not on/off; with any, the device announces the
        lights capability 2 and keeps (and reports) each such light's full state."""
        self.device_id = device_id
        self.secret = secret
        self.hub_urls = hub_urls
        self.heartbeat = heartbeat
        self.on_applied = on_applied
        self.state: dict[tuple[str, str], tuple[bool, int]] = {key: (False, 0) for key in lights}
        self.kinds = kinds or {}
        self.full: dict[tuple[str, str], dict[str, Any]] = {
            key: protocol.initial_state(kind) for key, kind in self.kinds.items()
        }
        self.connected_url = ""
        self.connections = 0
        self.welcomed = asyncio.Event()
        self.changed = asyncio.Event()
        self.heartbeat_interval = 15.0
        self._socket: Any = None
        self._task: asyncio.Task[None] | None = None

    def entries(self) -> list[dict[str, Any]]:
        """Every light as the protocol carries it."""
        return [
            protocol.light_entry(
                room,
                light,
                {**self.full[(room, light)], "on": on}
                if (room, light) in self.full
                else protocol.light_state(on),
                version,
                kind=self.kinds.get((room, light)),
            )
            for (room, light), (on, version) in self.state.items()
        ]

    def start(self) -> "ProtocolDevice":
        """Run the connection loop in the background."""
        self._task = asyncio.create_task(self.run())
        return self

    async def stop(self) -> None:
        """Close the socket and stop reconnecting."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def connect_once(self, url: str, open_timeout: float = 30) -> Any:
        """Open a socket to one hub and say hello; return the socket once welcomed."""
        socket = await websockets.connect(
            url.rstrip("/") + protocol.HUB_WEBSOCKET_PATH,
            additional_headers={"Authorization": basic_authorization(self.device_id, self.secret)},
            open_timeout=open_timeout,
            ping_interval=None,
            compression=None,
            max_queue=16,
            proxy=None,  # a device talks to its hub directly (and looking up proxies in the environment cost more than the handshake)
        )
        hello = protocol.build_device_hello(
            self.device_id,
            "bench-1",
            "protocol-client",
            self.entries(),
            capabilities=protocol.capabilities() if self.kinds else None,
        )
        await socket.send(protocol.encode(hello))
        self._socket = socket
        self.connected_url = url
        self.connections += 1
        return socket

    async def run(self) -> None:
        """Connect, serve, reconnect: forever (until stop())."""
        index = 0
        while True:
            url = self.hub_urls[index % len(self.hub_urls)]
            try:
                socket = await self.connect_once(url)
                await self.serve(socket)
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError):
                pass
            self.welcomed.clear()
            self.connected_url = ""
            index += 1
            await asyncio.sleep(RECONNECT_DELAY)

    async def serve(self, socket: Any) -> None:
        """Handle hub messages on an open socket until it closes."""
        pinger = asyncio.create_task(self._ping_forever(socket)) if self.heartbeat else None
        try:
            async for raw in socket:
                await self.handle(socket, raw)
        finally:
            if pinger is not None:
                pinger.cancel()

    async def handle(self, socket: Any, raw: str | bytes) -> None:
        """Apply one hub message: newer desired states are applied and reported at once."""
        message = protocol.parse(raw, protocol.HUB_MESSAGE_TYPES)
        kind = message["type"]
        if kind not in (protocol.HUB_WELCOME, protocol.STATE_SET):
            return
        if kind == protocol.HUB_WELCOME:
            self.heartbeat_interval = float(message["data"]["heartbeat_interval"])
        applied = []
        for entry in message["data"]["lights"]:
            key = (entry["room"], entry["light"])
            current = self.state.get(key, (False, 0))
            if protocol.should_apply(current[1], entry["version"]):
                self.state[key] = (entry["state"]["on"], entry["version"])
                if key in self.full:
                    self.full[key] = dict(entry["state"])
                applied.append(protocol.light_entry(key[0], key[1], entry["state"], entry["version"]))
        if applied:
            await socket.send(protocol.encode(protocol.build_state_report(applied)))
            if self.on_applied is not None:
                for entry in applied:
                    self.on_applied(self, entry, time.perf_counter())
            self.changed.set()
        if kind == protocol.HUB_WELCOME:
            self.welcomed.set()

    async def _ping_forever(self, socket: Any) -> None:
        await self.welcomed.wait()  # the welcome says how often
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await socket.send(protocol.encode(protocol.build_heartbeat_ping(uptime=int(time.monotonic()))))
