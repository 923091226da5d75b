"""Tests only: the real firmware run against a live hub, on either runtime.

SimulatedDevice runs it on CPython in a background thread; MicroPythonDevice runs the compiled
bundle on MicroPython's unix port in its own process. Both answer the same calls (control(),
light(), pin(), output()), so a test takes either from the `start_device` fixture.
"""

import asyncio
import base64
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from lamplighter.firmware import config as config_module
from lamplighter.firmware import host_control, protocol
from lamplighter.firmware import log as log_module
from lamplighter.firmware.app import Device, provision
from lamplighter.firmware.hal.host import HostHal
from lamplighter.tools.micropython_devices import REBOOT_EXIT, Runtime
from lamplighter.tools.simulator import free_port


class SimulatedDevice:
    """One firmware Device with its own flash folder, web port and event loop thread."""

    runtime = "cpython"

    def __init__(
        self,
        flash: Path,
        advertise_lan: bool = False,
        setup: tuple[str, int, float] | None = None,
        **config: Any,
    ) -> None:
        flash.mkdir(parents=True, exist_ok=True)
        self.flash = flash
        self.setup = setup
        self.boots = 1  # a restart the firmware asks for (an OTA update) boots again on the same flash
        self._stopping = False
        self._shown: list[str] = []  # display lines of earlier boots
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.hal = HostHal(str(flash))
        if setup is not None:  # an empty device: its setup page first (pairing), then a reboot
            self.config: dict[str, Any] = {}
            self.url = f"http://{setup[0]}:{setup[1]}"
            return
        port = free_port()
        raw = {"board": "host", "web": {"host": "127.0.0.1", "port": port}, **config}
        if advertise_lan:
            raw["lan_url"] = f"http://127.0.0.1:{port}"
        self.config = config_module.validate(raw)
        self.url = f"http://127.0.0.1:{port}"
        self.device = Device(self.hal, self.config, log_module.Logger(self.config["device_id"], self.hal))

    def _reboot(self) -> None:
        self._shown.extend(self.hal.display_lines)
        self.hal = HostHal(str(self.flash))
        if not self.config:  # paired on this boot: the config is on flash now
            self.config = config_module.load(str(self.flash))
        self.device = Device(self.hal, self.config, log_module.Logger(self.config["device_id"], self.hal))
        self.boots += 1

    async def _provision(self) -> bool:
        assert self.setup is not None
        host, port, seconds = self.setup
        logger = log_module.Logger("setup", self.hal)
        config = await provision(self.hal, logger, "host", host, port, seconds)
        if config is None:
            return False
        config["lan_url"] = self.url
        config_module.save(str(self.flash), config)
        self._reboot()
        return True

    def start(self) -> "SimulatedDevice":
        """Boot the device in its own thread."""
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                self.loop = asyncio.get_running_loop()
                ready.set()
                if self.setup is not None and not await self._provision():
                    return
                while True:
                    await self.device.run()
                    if self._stopping or not self.device.restart_requested:
                        return
                    self._reboot()

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

    def control(self, op: str, *args: Any) -> Any:
        """One host_control operation on the running device (read a pin, press, inject a fault...)."""
        return self.call(host_control.run, self.device, op, list(args))

    def light(self, room: str, light: str) -> dict[str, Any]:
        """The light as the device holds it (state, version, changed)."""
        return self.control("light", room, light)

    def pin(self, pin: int) -> bool:
        """What the device drives on this output pin."""
        return self.control("pin", pin)

    def duty(self, pin: int) -> int:
        """The PWM duty (0..65535) the device last set on this pin."""
        return self.control("duty", pin)

    def output(self) -> str:
        """Every line the device has shown since it started (all boots)."""
        return "\n".join(self._shown + list(self.hal.display_lines))

    def stop(self) -> None:
        """Shut the device down and wait for its thread."""
        self._stopping = True
        if self.loop is not None and self.thread is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(lambda: self.device.stop() if hasattr(self, "device") else None)
            self.thread.join(10)


class MicroPythonDevice:
    """The compiled bundle on MicroPython's unix port: one process, started again when it reboots."""

    runtime = "micropython"

    def __init__(
        self,
        flash: Path,
        runtime: Runtime,
        advertise_lan: bool = False,
        setup: tuple[str, int, float] | None = None,
        **config: Any,
    ) -> None:
        flash.mkdir(parents=True, exist_ok=True)
        self.flash = flash
        self.setup = setup
        self.runtime_files = runtime
        self.boots = 1
        self.control_port = free_port()
        self.log_path = flash.parent / (flash.name + ".micropython.log")
        self.process: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None
        self.exit_codes: list[int] = []
        self._stopping = False
        if setup is not None:
            self.config: dict[str, Any] = {}
            self.url = f"http://{setup[0]}:{setup[1]}"
            return
        port = free_port()
        raw = {"board": "host", "web": {"host": "127.0.0.1", "port": port}, **config}
        if advertise_lan:
            raw["lan_url"] = f"http://127.0.0.1:{port}"
        self.config = config_module.validate(raw)
        self.url = f"http://127.0.0.1:{port}"
        config_module.save(str(flash), self.config)

    def start(self) -> "MicroPythonDevice":
        """Start the process (and again after each reboot it asks for) until stop()."""
        env = self.runtime_files.environment(self.flash, control_port=self.control_port, setup=self.setup)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by the thread when the device stops

        def run() -> None:
            try:
                while not self._stopping:
                    self.process = subprocess.Popen(  # noqa: S603 - the unix port on our bundle
                        self.runtime_files.command(control=True),
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                    code = self.process.wait()
                    self.exit_codes.append(code)
                    if code != REBOOT_EXIT or self._stopping:
                        return
                    self.boots += 1
                    if not self.config:
                        self.config = config_module.load(str(self.flash))
            finally:
                log.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if self.setup is None:
            wait_for(self._answers, 15, "the MicroPython device's control port")
        return self

    def _answers(self) -> bool:
        try:
            self.control("heap")
            return True
        except OSError:
            return False

    def control(self, op: str, *args: Any) -> Any:
        """One host_control operation, over the device's loopback control port."""
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as connection:
            connection.sendall((json.dumps({"op": op, "args": list(args)}) + "\n").encode())
            answer = json.loads(connection.makefile().readline())
        if "error" in answer:
            raise RuntimeError(f"control {op}: {answer['error']}")
        return answer["ok"]

    def light(self, room: str, light: str) -> dict[str, Any]:
        """The light as the device holds it (state, version, changed)."""
        return self.control("light", room, light)

    def pin(self, pin: int) -> bool:
        """What the device drives on this output pin."""
        return self.control("pin", pin)

    def duty(self, pin: int) -> int:
        """The PWM duty (0..65535) the device last set on this pin."""
        return self.control("duty", pin)

    def output(self) -> str:
        """Everything the process printed since it started (all boots)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the process (a board losing power: its state is on flash) and wait for the thread."""
        self._stopping = True
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.thread is not None:
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
