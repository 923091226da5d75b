"""The system the Home Assistant check drives: a private Mosquitto, the hub (`lamplighter serve`
with the MQTT bridge), three simulated devices (the demo home: every light kind) and a real Home
Assistant core, each its own process. Which Home Assistant: $HA_VERSION on $HA_PYTHON, with
$HA_COLOR_TEMP_UNIT as the hub's MQTT_COLOR_TEMP_UNIT (see the README's Home Assistant section)."""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from websockets.sync.client import connect

from home_assistant import install
from lamplighter.tools.simulator import free_port

ROOT = Path(__file__).resolve().parent.parent
HUB_DIR = ROOT / "hub"
HA_VERSION = os.environ.get("HA_VERSION", "2025.4.4")
HA_PYTHON = os.environ.get("HA_PYTHON", "python3.13")
UNIT = os.environ.get("HA_COLOR_TEMP_UNIT", "kelvin")
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
BASE = "lamplighter"
WAIT = 30.0
# One client for every HTTP call (each new client loads the CA bundle again: slow on a busy machine).
HTTP = httpx.Client(timeout=30)
# Figures of this run (never asserted): printed at the end and written to bench/results/.
FIGURES: dict[str, Any] = {"home_assistant": HA_VERSION, "color_temp_unit": UNIT}


def wait_until(check: Callable[[], Any], timeout: float = WAIT, what: str = "condition") -> Any:
    """check()'s first truthy answer, polled every 20 ms; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def port_open(port: int) -> bool:
    """True when something listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class Broker:
    """A Mosquitto of this check only (no persistence), so it can be stopped and started freely."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and wait until it listens."""
        with self.log.open("a") as log:
            self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=log)
        wait_until(lambda: port_open(self.port), 10, "mosquitto to listen")

    def stop(self) -> None:
        """Stop it (its retained messages go with it)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class Hub:
    """`lamplighter serve` with the bridge on the check's broker; started, stopped and killed at will."""

    def __init__(self, folder: Path, broker: Broker) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "hub.log"
        self.env = {
            **os.environ,
            "LAMPLIGHTER_DATA_DIR": str(folder / "hub"),
            "LAMPLIGHTER_SECRET_KEY": secrets.token_urlsafe(32),
            "LAMPLIGHTER_LOG_LEVEL": "INFO",
            "MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
            "MQTT_BASE_TOPIC": BASE,
            "MQTT_DISCOVERY_PREFIX": "homeassistant",
            "MQTT_COLOR_TEMP_UNIT": UNIT,
            "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{ROOT}",
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        (folder / "hub").mkdir()
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.listening_after = 0.0  # seconds from start() to the port open

    def seed(self) -> dict[str, Any]:
        """The demo home, its devices' configs and the credentials (home_assistant/seed.py)."""
        out = subprocess.run(
            [sys.executable, str(ROOT / "home_assistant" / "seed.py"), "--hub-url", self.url],
            env=self.env,
            cwd=HUB_DIR,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def start(self) -> None:
        """Start a new hub process (started_at: just before it was started)."""
        self.started_at = time.monotonic()
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lamplighter.cli", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=HUB_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: port_open(self.port), 60, "the hub to listen")
        self.listening_after = time.monotonic() - self.started_at

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM: the bridge says offline and gives its lease up)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None

    def kill(self) -> None:
        """kill -9: no clean-up at all (the broker says the bridge's last will)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Devices:
    """The simulated devices, one process each (so one can be stopped alone)."""

    def __init__(self, folder: Path, seed: dict[str, Any]) -> None:
        self.folder = folder
        self.seed = {device["name"]: device for device in seed["devices"]}
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        """Start the device `name` (its state persists in its own data folder)."""
        data = self.folder / name
        data.mkdir(exist_ok=True)
        log = (self.folder / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lamplighter.cli",
                "device",
                "--config",
                self.seed[name]["config"],
                "--data-dir",
                str(data),
            ],
            env={"PYTHONPATH": f"{HUB_DIR}{os.pathsep}{ROOT}", "PATH": os.environ.get("PATH", "")},
            cwd=HUB_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def stop(self, name: str) -> None:
        """Stop the device `name`."""
        process = self.processes.pop(name, None)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        """Stop every device."""
        for name in list(self.processes):
            self.stop(name)


class HomeAssistant:
    """A real Home Assistant core: configured, onboarded, and watched over its WebSocket API."""

    def __init__(self, folder: Path, broker: Broker) -> None:
        self.env_dir = install.install(HA_VERSION, HA_PYTHON, install.cache_root())
        self.installed = json.loads((self.env_dir / install.MARKER).read_text())
        self.config = folder / "ha-config"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.config / "home-assistant.log"
        self.process: subprocess.Popen | None = None
        self.token = ""
        self.states: dict[str, dict[str, Any]] = {}
        self.changed = threading.Condition()
        self._socket: Any = None
        self._exit = contextlib.ExitStack()
        self._results: dict[int, Any] = {}
        self._next_id = 0
        self._write_config(broker)

    def _write_config(self, broker: Broker) -> None:
        storage = self.config / ".storage"
        storage.mkdir(parents=True)
        (self.config / "configuration.yaml").write_text(
            "homeassistant:\n  name: Lamplighter check\n  time_zone: UTC\n  unit_system: metric\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
            "api:\nwebsocket_api:\nconfig:\nonboarding:\n"
            "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: info\n"
        )
        # Since 2022 the broker is set only through a config entry: written before the first start.
        entry = {
            "entry_id": uuid.uuid4().hex,
            "version": 1,
            "minor_version": 1,
            "domain": "mqtt",
            "title": "Check broker",
            "data": {"broker": "127.0.0.1", "port": broker.port},
            "options": {},
            "pref_disable_new_entities": False,
            "pref_disable_polling": False,
            "source": "user",
            "unique_id": None,
            "disabled_by": None,
        }
        (storage / "core.config_entries").write_text(
            json.dumps(
                {"version": 1, "minor_version": 1, "key": "core.config_entries", "data": {"entries": [entry]}}
            )
        )

    def start(self) -> float:
        """Start it, onboard a user, connect the WebSocket; return the seconds until it answered."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            [str(self.env_dir / "bin" / "hass"), "--config", str(self.config), "--skip-pip"],
            stdout=subprocess.DEVNULL,
            stderr=(self.config / "stderr.log").open("w"),
        )

        def onboarding() -> Any:
            assert self.process is not None and self.process.poll() is None, self.tail()
            try:
                response = HTTP.get(self.url + "/api/onboarding", timeout=2)
            except httpx.HTTPError:
                return None
            return response.status_code == 200

        wait_until(onboarding, 180, "Home Assistant to answer")
        up = time.monotonic() - started
        client_id = self.url + "/"
        created = HTTP.post(
            self.url + "/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Check",
                "username": "check",
                "password": secrets.token_urlsafe(16),
                "language": "en",
            },
        )
        created.raise_for_status()
        tokens = HTTP.post(
            self.url + "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": created.json()["auth_code"],
                "client_id": client_id,
            },
            timeout=30,
        )
        tokens.raise_for_status()
        self.token = tokens.json()["access_token"]
        self._connect()
        return up

    def _connect(self) -> None:
        self._socket = self._exit.enter_context(
            connect(self.url.replace("http", "ws") + "/api/websocket", max_size=None)
        )
        assert json.loads(self._socket.recv())["type"] == "auth_required"
        self._socket.send(json.dumps({"type": "auth", "access_token": self.token}))
        assert json.loads(self._socket.recv())["type"] == "auth_ok"
        threading.Thread(target=self._read, daemon=True).start()
        self.request({"type": "subscribe_events", "event_type": "state_changed"})
        for state in self.request({"type": "get_states"}):
            with self.changed:
                self.states.setdefault(state["entity_id"], {**state, "at": time.monotonic()})

    def _read(self) -> None:
        try:
            for raw in self._socket:
                message = json.loads(raw)
                with self.changed:
                    if message.get("type") == "event":
                        data = message["event"]["data"]
                        if data.get("new_state") is not None:
                            self.states[data["entity_id"]] = {**data["new_state"], "at": time.monotonic()}
                    elif message.get("type") == "result":
                        self._results[message["id"]] = message
                    self.changed.notify_all()
        except Exception:  # noqa: BLE001 - the socket closed (Home Assistant stopped)
            return

    def request(self, message: dict[str, Any]) -> Any:
        """Send a WebSocket command and return its result (AssertionError when it failed)."""
        with self.changed:
            self._next_id += 1
            ident = self._next_id
        self._socket.send(json.dumps({**message, "id": ident}))
        with self.changed:
            self.changed.wait_for(lambda: ident in self._results, WAIT)
            result = self._results.pop(ident)
        assert result["success"], result
        return result["result"]

    def call(self, domain: str, service: str, data: dict[str, Any]) -> float:
        """Call a service over the REST API; return the monotonic time just before the call."""
        at = time.monotonic()
        response = HTTP.post(
            f"{self.url}/api/services/{domain}/{service}",
            json=data,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return at

    def wait_state(
        self, entity_id: str, check: Callable[[dict[str, Any]], bool], timeout: float = WAIT, after: float = 0
    ) -> dict[str, Any]:
        """The entity's state once check(state) holds (for a change seen after `after`, when given)."""

        def current() -> dict[str, Any] | None:
            state = self.states.get(entity_id)
            return state if state is not None and state["at"] >= after and check(state) else None

        with self.changed:
            found = self.changed.wait_for(current, timeout)
        assert found, f"{entity_id}: last state {self.states.get(entity_id)}"
        return found

    def entity_ids(self) -> dict[str, str]:
        """unique_id -> entity_id of every MQTT entity (from the entity registry)."""
        return {
            entry["unique_id"]: entry["entity_id"]
            for entry in self.request({"type": "config/entity_registry/list"})
            if entry.get("platform") == "mqtt"
        }

    def tail(self, lines: int = 40) -> str:
        """The end of its log (for a failure's message)."""
        text = self.log.read_text() if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_errors(self) -> list[str]:
        """Lines of its log at ERROR or WARNING that concern MQTT, discovery or lights (but the
        broker connection, which the check breaks on purpose)."""
        text = self.log.read_text() if self.log.exists() else ""
        return [
            line
            for line in text.splitlines()
            if (" ERROR " in line or " WARNING " in line)
            and any(word in line for word in ("mqtt", "lamplighter", "light"))
            and "[homeassistant.components.mqtt.client]" not in line
        ]

    def stop(self) -> None:
        """Stop it."""
        self._exit.close()
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Watcher:
    """A plain MQTT client on the check's broker: what the bridge publishes and HA commands."""

    def __init__(self, broker: Broker) -> None:
        self.messages: list[tuple[float, str, bytes]] = []
        self.changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="check-" + secrets.token_hex(4))
        self.client.on_message = self._on_message
        self.client.on_connect = lambda client, *_: client.subscribe(f"{BASE}/#", qos=1)
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.changed:
            self.messages.append((time.monotonic(), message.topic, message.payload))
            self.changed.notify_all()

    def wait_for(
        self, topic: str, check: Callable[[bytes], bool], after: float, timeout: float = WAIT
    ) -> tuple[float, bytes]:
        """(time, payload) of the first message on `topic` after `after` for which check(payload)."""

        def found() -> tuple[float, bytes] | None:
            for at, seen, payload in self.messages:
                if at >= after and seen == topic and check(payload):
                    return at, payload
            return None

        with self.changed:
            result = self.changed.wait_for(found, timeout)
        assert result, f"no matching message on {topic}"
        return result

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


class System:
    """Everything the check runs, with the seed's names."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.broker = Broker(folder)
        self.hub = Hub(folder, self.broker)
        self.seed: dict[str, Any] = {}
        self.devices: Devices | None = None
        self.ha: HomeAssistant | None = None
        self.watcher: Watcher | None = None
        self.entities: dict[str, str] = {}  # light key ("Kitchen/Ceiling") or "scene" -> entity_id

    def light(self, key: str) -> dict[str, Any]:
        """The seed's light `key` ("Room/Light")."""
        return next(light for light in self.seed["lights"] if light["key"] == key)

    def hub_light(self, key: str) -> dict[str, Any]:
        """The light as the hub's REST API gives it now."""
        response = HTTP.get(
            f"{self.hub.url}/api/v1/lights/{self.light(key)['id']}",
            headers={"Authorization": f"Bearer {self.seed['token']}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The whole system up, every light and the scene discovered by Home Assistant."""
    if MOSQUITTO is None:
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    folder = tmp_path_factory.mktemp("home-assistant")
    system = System(folder)
    try:
        system.broker.start()
        system.seed = system.hub.seed()
        system.hub.start()
        system.devices = Devices(folder, system.seed)
        for name in system.devices.seed:
            system.devices.start(name)
        system.watcher = Watcher(system.broker)
        system.ha = HomeAssistant(folder, system.broker)
        FIGURES["install_seconds"] = system.ha.installed["seconds"]
        FIGURES["python"] = system.ha.installed["python"]
        FIGURES["ha_start_seconds"] = round(system.ha.start(), 1)
        ha = system.ha
        wanted = {f"{BASE}_light_{light['id']}": light["key"] for light in system.seed["lights"]}
        wanted[f"{BASE}_scene_{system.seed['scene_id']}"] = "scene"

        def discovered() -> bool:
            found = ha.entity_ids()
            system.entities = {key: found[unique] for unique, key in wanted.items() if unique in found}
            return len(system.entities) == len(wanted)

        wait_until(discovered, 60, "every light and the scene in Home Assistant")
        yield system
    finally:
        if system.ha is not None:
            system.ha.stop()
        if system.watcher is not None:
            system.watcher.close()
        if system.devices is not None:
            system.devices.stop_all()
        system.hub.stop()
        system.broker.stop()
        report = ROOT / "bench" / "results" / f"home-assistant-{HA_VERSION}.json"
        report.parent.mkdir(exist_ok=True)
        report.write_text(json.dumps(FIGURES, indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print this run's figures (also in bench/results/home-assistant-<version>.json)."""
    terminalreporter.section(f"Home Assistant {HA_VERSION}: figures of this run")
    for key, value in FIGURES.items():
        terminalreporter.write_line(f"{key}: {value}")
