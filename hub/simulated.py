"""Tests only: the real firmware (as the simulator) run in a background thread against a live hub."""

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from lamplighter.firmware import config as config_module
from lamplighter.firmware import log as log_module
from lamplighter.firmware import protocol
from lamplighter.firmware.app import Device
from lamplighter.firmware.hal.host import HostHal
from lamplighter.firmware.simulator import free_port


class SimulatedDevice:
    """One firmware Device with its own flash folder, web port and event loop thread."""

    def __init__(self, flash: Path, advertise_lan: bool = False, **config: Any) -> None:
        flash.mkdir(parents=True, exist_ok=True)
        port = free_port()
        raw = {"board": "host", "web": {"host": "127.0.0.1", "port": port}, **config}
        if advertise_lan:
            raw["lan_url"] = f"http://127.0.0.1:{port}"
        self.config = config_module.validate(raw)
        self.url = f"http://127.0.0.1:{port}"
        self.flash = flash
        self.boots = 1  # a restart the firmware asks for (an OTA update) boots again on the same flash
        self._stopping = False
        self.hal = HostHal(str(flash))
        self.device = Device(self.hal, self.config, log_module.Logger(self.config["device_id"], self.hal))
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> "SimulatedDevice":
        """Boot the device in its own thread."""
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                self.loop = asyncio.get_running_loop()
                ready.set()
                while True:
                    await self.device.run()
                    if self._stopping or not self.device.restart_requested:
                        return
                    self.hal = HostHal(str(self.flash))
                    logger = log_module.Logger(self.config["device_id"], self.hal)
                    self.device = Device(self.hal, self.config, logger)
                    self.boots += 1

            asyncio.run(main())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)
        return self

    def call(self, function: Any, *args: Any) -> Any:
        """Run a plain function on the device's loop (its state is not thread-safe) and return the result."""
        assert self.loop is not None
        result: list[Any] = []
        done = threading.Event()

        def invoke() -> None:
            result.append(function(*args))
            done.set()

        self.loop.call_soon_threadsafe(invoke)
        done.wait(5)
        return result[0]

    def light(self, room: str, light: str) -> dict[str, Any]:
        """The light as the device holds it (state, version, changed)."""
        return self.call(self.device.store.entry, room, light)

    def stop(self) -> None:
        """Shut the device down and wait for its thread."""
        self._stopping = True
        if self.loop is not None and self.thread is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(lambda: self.device.stop())
            self.thread.join(10)


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "a condition") -> Any:
    """Poll until predicate() is truthy; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def device_socket(
    ws_url: str,
    device_id: str,
    secret: str,
    lights: list[dict],
    board: str = "host",
    capabilities: dict[str, Any] | None = None,
) -> Iterator[ClientConnection]:
    """Play a device by hand: open its WebSocket, say hello (firmware 2.0.1), read the welcome.

    capabilities: protocol.capabilities() to play a device that drives rich lights."""
    token = base64.b64encode(f"{device_id}:{secret}".encode()).decode()
    with connect(
        ws_url + protocol.HUB_WEBSOCKET_PATH,
        additional_headers={"Authorization": "Basic " + token},
        open_timeout=5,
    ) as socket:
        hello = protocol.build_device_hello(
            device_id, "2.0.1", board, lights, mode=protocol.MODE_REMOTE, capabilities=capabilities
        )
        socket.send(protocol.encode(hello))
        assert protocol.parse(socket.recv(timeout=5))["type"] == protocol.HUB_WELCOME
        yield socket


def receive_type(socket: ClientConnection, message_type: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next hub message of this type on a hand-played device socket (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {message_type} within {timeout} s")
        message = protocol.parse(socket.recv(timeout=max(0.1, remaining)))
        if message["type"] == message_type:
            return message
