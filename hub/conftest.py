"""Hub test fixtures: a real hub server on a free loopback port, and authenticated API clients."""

import asyncio
import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from lamplighter.accounts.services import api_token_create
from lamplighter.tools.micropython_devices import Runtime, prepare_runtime
from lamplighter.tools.simulator import free_port

# The runtimes a device test runs on: the firmware on CPython (the simulator) and the compiled
# bundle on MicroPython's unix port.
RUNTIMES = ["cpython", "micropython"]


@dataclass
class LiveHub:
    """A hub served by uvicorn in a background thread."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Base HTTP URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base WebSocket URL."""
        return f"ws://{self.host}:{self.port}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counts live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class HubServer:
    """uvicorn serving the hub in a background thread; can be stopped and started on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve until stop(); raises if the hub does not come up."""
        from channels.layers import channel_layers

        from lamplighter.serving.server import uvicorn_config

        # A fresh in-memory channel layer per hub: one left from an earlier hub holds groups and
        # queues of sockets and event loops that are gone.
        channel_layers.backends.clear()
        config = uvicorn_config("127.0.0.1", self.port)
        config.log_level = "warning"
        server = uvicorn.Server(config)
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the hub did not start")
            time.sleep(0.02)
        self.server, self.thread = server, thread

    def stop(self) -> None:
        """Stop serving: every socket closes, as when the hub goes away."""
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
        self.server = self.thread = None


@pytest.fixture
def hub_server(transactional_db: None, settings: object) -> Iterator[HubServer]:
    """A hub the test can stop and start again (on the same port)."""
    hub = HubServer(free_port())
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def live_hub(hub_server: HubServer) -> LiveHub:
    """The real ASGI app (HTTP, WebSockets, lifespan) on a free port; stopped after the test."""
    return LiveHub("127.0.0.1", hub_server.port)


def bearer(user: object) -> dict[str, str]:
    """Test-client headers with a fresh personal API token of `user`."""
    _, token = api_token_create(user=user)  # type: ignore[arg-type]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    """Test-client headers with HTTP Basic credentials (a device's id and secret)."""
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def api_client(hub: LiveHub, user: object) -> httpx.Client:
    """An httpx client for the hub's API, authenticated with a fresh personal token of `user`."""
    _, token = api_token_create(user=user)  # type: ignore[arg-type]
    return httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture(scope="session")
def micropython_runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The bundle and the unix-port entry, built once per test session."""
    return prepare_runtime(tmp_path_factory.mktemp("micropython"))


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each device test runs once per runtime."""
    return request.param


@pytest.fixture
def start_device(runtime: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """start_device(flash, **config): a device on this test's runtime, started; stopped after the test."""
    from simulated import MicroPythonDevice, SimulatedDevice

    started: list[Any] = []

    def start(flash: Path, **options: Any) -> Any:
        if runtime == "micropython":
            device: Any = MicroPythonDevice(flash, request.getfixturevalue("micropython_runtime"), **options)
        else:
            device = SimulatedDevice(flash, **options)
        started.append(device)
        return device.start()

    yield start
    for device in started:
        device.stop()
