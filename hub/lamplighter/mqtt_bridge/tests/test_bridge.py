"""The bridge end to end: a real hub, the real Mosquitto, a paho client playing Home Assistant, and a
device on the hub's WebSocket. Each test run uses its own base topic and discovery prefix."""

import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from conftest import LiveHub, free_port
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.automations.services import scene_create
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_delete, light_update
from simulated import device_socket, receive_type

BROKER = ("127.0.0.1", 1883)
DEVICE_SECRET = "bridge-test-device-secret"
WAIT = 10.0
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=2).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")


class FakeHomeAssistant:
    """A paho client that records the last payload of every topic under the bridge's two roots."""

    def __init__(self, roots: list[str], broker: tuple[str, int] = BROKER) -> None:
        self.latest: dict[str, bytes] = {}
        self.changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="ha-" + secrets.token_hex(4))
        self.client.on_message = self._on_message
        self.client.connect(*broker)
        for root in roots:
            self.client.subscribe(root + "/#", qos=1)
        self.client.loop_start()

    def _on_message(self, client: object, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self.changed:
            self.latest[message.topic] = message.payload
            self.changed.notify_all()

    def wait_for(self, topic: str, expected: object = None, timeout: float = WAIT) -> bytes:
        """The topic's payload once it matches `expected` (bytes, a JSON-decoded value, or anything when None)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                payload = self.latest.get(topic)
                if payload is not None and (expected is None or _matches(payload, expected)):
                    return payload
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{topic}: wanted {expected!r}, last saw {payload!r}")
                self.changed.wait(remaining)

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def clear_retained(self) -> None:
        """Leave the shared broker clean: empty every retained topic this run created."""
        for topic, payload in list(self.latest.items()):
            if payload:
                self.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _matches(payload: bytes, expected: object) -> bool:
    if isinstance(expected, bytes):
        return payload == expected
    try:
        return json.loads(payload) == expected
    except ValueError:
        return False


@pytest.fixture
def mqtt_settings(settings) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    """Bridge settings with topics of this run only (requested before live_hub, which reads them)."""
    run = secrets.token_hex(4)
    settings.MQTT_URL = "mqtt://%s:%d" % BROKER
    settings.MQTT_BASE_TOPIC = f"lltest-{run}"
    settings.MQTT_DISCOVERY_PREFIX = f"hatest-{run}"
    settings.MQTT_RESYNC_SECONDS = 1
    yield SimpleNamespace(base=settings.MQTT_BASE_TOPIC, prefix=settings.MQTT_DISCOVERY_PREFIX)
    # Torn down after the hub stopped: remove the retained "offline" its bridge said last.
    cleaner = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="ha-clean-" + run)
    cleaner.connect(*BROKER)
    cleaner.loop_start()
    cleaner.publish(f"lltest-{run}/bridge/status", b"", qos=1, retain=True).wait_for_publish(5)
    cleaner.loop_stop()
    cleaner.disconnect()


@pytest.fixture
def home_assistant(mqtt_settings: SimpleNamespace) -> Iterator[FakeHomeAssistant]:
    ha = FakeHomeAssistant([mqtt_settings.base, mqtt_settings.prefix])
    yield ha
    ha.clear_retained()
    ha.close()


@pytest.fixture
def bridged(
    mqtt_settings: SimpleNamespace, live_hub: LiveHub, home_assistant: FakeHomeAssistant
) -> SimpleNamespace:
    user = UserFactory()
    home = HomeFactory(owner=user, name="Cabin")
    room = RoomFactory(home=home, name="Kitchen")
    device = DeviceFactory(home=home, name="kitchen-board", secret=DEVICE_SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    return SimpleNamespace(
        hub=live_hub,
        ha=home_assistant,
        base=mqtt_settings.base,
        prefix=mqtt_settings.prefix,
        home=home,
        device=device,
        light=light,
    )


def device_online(hub: LiveHub, device_id: str, lights: list[dict]) -> Any:
    """Play the device: open its WebSocket, say hello (as firmware 2.0.1 on an m5core2), read the welcome."""
    return device_socket(hub.ws_url, device_id, DEVICE_SECRET, lights, board="m5core2")


def receive_state_set(sock: Any) -> dict:
    """The first light of the next state.set the hub sends the device."""
    return receive_type(sock, protocol.STATE_SET, timeout=WAIT)["data"]["lights"][0]


def wait_db(predicate, timeout: float = WAIT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the database never got there")
        time.sleep(0.05)


def test_home_assistant_discovers_commands_and_follows_a_light(bridged: SimpleNamespace) -> None:
    ha, base, prefix, light, device = bridged.ha, bridged.base, bridged.prefix, bridged.light, bridged.device
    ha.wait_for(f"{base}/bridge/status", b"online")
    config = json.loads(ha.wait_for(f"{prefix}/light/{base.replace('-', '_')}_light_{light.pk}/config"))
    assert config["unique_id"] == f"{base.replace('-', '_')}_light_{light.pk}"
    assert config["name"] == "Kitchen Ceiling"
    assert (config["command_topic"], config["state_topic"]) == (
        f"{base}/light/{light.pk}/set",
        f"{base}/light/{light.pk}/state",
    )
    assert {"topic": f"{base}/light/{light.pk}/availability"} in config["availability"]
    assert config["device"]["manufacturer"] == "Lamplighter" and config["device"]["name"] == "kitchen-board"
    ha.wait_for(f"{base}/light/{light.pk}/availability", b"offline")

    off_v1 = [protocol.light_entry("Kitchen", "Ceiling", protocol.light_state(False), 1)]
    with device_online(bridged.hub, device.device_id, off_v1) as sock:
        ha.wait_for(f"{base}/light/{light.pk}/availability", b"online")
        ha.wait_for(f"{base}/light/{light.pk}/state", {"state": "OFF"})
        # The device said who it is: model and firmware version reach the discovery config.
        config = json.loads(
            ha.wait_for(f"{prefix}/light/{base.replace('-', '_')}_light_{light.pk}/config", None)
        )
        deadline = time.monotonic() + WAIT
        while config["device"].get("sw_version") != "2.0.1" and time.monotonic() < deadline:
            time.sleep(0.1)
            config = json.loads(ha.latest[f"{prefix}/light/{base.replace('-', '_')}_light_{light.pk}/config"])
        assert (config["device"]["model"], config["device"]["sw_version"]) == ("m5core2", "2.0.1")

        # Garbage on the command topic is ignored; the bridge carries on.
        ha.publish(f"{base}/light/{light.pk}/set", b"{not json")
        ha.publish(f"{base}/light/{light.pk}/set", json.dumps({"state": "ON"}))
        entry = receive_state_set(sock)  # through the hub's desired-state path to the device
        assert (entry["state"], entry["version"]) == ({"on": True}, 2)
        assert Light.objects.get(pk=light.pk).desired_on is True
        sock.send(
            protocol.encode(
                protocol.build_state_report([protocol.light_entry("Kitchen", "Ceiling", entry["state"], 2)])
            )
        )
        ha.wait_for(f"{base}/light/{light.pk}/state", {"state": "ON"})

    # The socket closed: the device is offline, and so is its light in Home Assistant.
    ha.wait_for(f"{base}/light/{light.pk}/availability", b"offline")
    light.refresh_from_db()
    assert (light.desired_on, light.reported_on, light.desired_version) == (True, True, 2)


def test_scenes_appear_and_apply_and_lights_come_and_go(bridged: SimpleNamespace) -> None:
    ha, base, prefix, light = bridged.ha, bridged.base, bridged.prefix, bridged.light
    slug = base.replace("-", "_")
    scene = scene_create(home=bridged.home, name="Night", lights=[(light.pk, True)])
    config = json.loads(ha.wait_for(f"{prefix}/scene/{slug}_scene_{scene.pk}/config"))
    assert (config["name"], config["command_topic"]) == ("Night", f"{base}/scene/{scene.pk}/set")
    ha.publish(f"{base}/scene/{scene.pk}/set", b"ON")
    wait_db(lambda: Light.objects.get(pk=light.pk).desired_on is True)

    # Renamed: the config follows. Deleted: an empty retained config removes the entity.
    light_update(light=light, name="Pendant", room=light.room, device=light.device)
    config_topic = f"{prefix}/light/{slug}_light_{light.pk}/config"
    deadline = time.monotonic() + WAIT
    while json.loads(ha.wait_for(config_topic) or b"{}").get("name") != "Kitchen Pendant":
        assert time.monotonic() < deadline, "rename never reached the config"
        time.sleep(0.1)
    light_delete(light=light)
    ha.wait_for(config_topic, b"")
    assert ha.latest[f"{prefix}/scene/{slug}_scene_{scene.pk}/config"]  # the scene stays (without lights)


@contextmanager
def private_broker(port: int, tmp_path: Path) -> Iterator[None]:
    """A Mosquitto of this test only (no persistence), so it can be stopped and started again."""
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.fixture
def private_port(mqtt_settings: SimpleNamespace, settings) -> int:  # type: ignore[no-untyped-def]
    """Point the bridge at a broker port of this test (requested before live_hub)."""
    port = free_port()
    settings.MQTT_URL = f"mqtt://127.0.0.1:{port}"
    return port


@pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto is not installed")
def test_the_bridge_reconnects_and_publishes_everything_again(
    private_port: int, mqtt_settings: SimpleNamespace, live_hub: LiveHub, tmp_path: Path
) -> None:
    base, prefix = mqtt_settings.base, mqtt_settings.prefix
    light = LightFactory(room=RoomFactory(name="Porch"), name="Lamp")
    config_topic = f"{prefix}/light/{base.replace('-', '_')}_light_{light.pk}/config"
    broker = ("127.0.0.1", private_port)
    # The hub started before any broker was up: the bridge keeps trying until one is.
    with private_broker(private_port, tmp_path):
        first = FakeHomeAssistant([base, prefix], broker)
        try:
            first.wait_for(f"{base}/bridge/status", b"online", timeout=20)
            first.wait_for(config_topic)
        finally:
            first.close()
    # That broker is gone, its retained messages with it; a new one comes up on the same port.
    with private_broker(private_port, tmp_path):
        second = FakeHomeAssistant([base, prefix], broker)
        try:
            second.wait_for(f"{base}/bridge/status", b"online", timeout=20)
            second.wait_for(config_topic)
            second.wait_for(f"{base}/light/{light.pk}/availability", b"offline")
        finally:
            second.close()


def test_home_assistant_dims_colours_and_fades_each_kind(bridged: SimpleNamespace) -> None:
    from lamplighter.lights.services import light_create

    ha, base, prefix, device = bridged.ha, bridged.base, bridged.prefix, bridged.device
    slug = base.replace("-", "_")
    room = bridged.light.room
    strip = light_create(room=room, name="Strip", kind="dimmable", device=device)
    white = light_create(
        room=room, name="White", kind="tunable_white", min_kelvin=2200, max_kelvin=5000, device=device
    )
    colour = light_create(room=room, name="Colour", kind="rgb", device=device)
    configs = {
        light.name: json.loads(ha.wait_for(f"{prefix}/light/{slug}_light_{light.pk}/config"))
        for light in (bridged.light, strip, white, colour)
    }
    assert configs["Ceiling"]["supported_color_modes"] == ["onoff"] and "brightness" not in configs["Ceiling"]
    assert configs["Strip"]["supported_color_modes"] == ["brightness"]
    assert (configs["Strip"]["brightness"], configs["Strip"]["brightness_scale"]) == (True, 255)
    assert configs["White"]["supported_color_modes"] == ["color_temp"]
    assert (
        configs["White"]["color_temp_kelvin"],
        configs["White"]["min_kelvin"],
        configs["White"]["max_kelvin"],
    ) == (
        True,
        2200,
        5000,
    )
    assert configs["Colour"]["supported_color_modes"] == ["rgb"]

    hello = [
        protocol.light_entry(
            "Kitchen", light.name, {"on": False, **fields}, 1, kind=light.kind, kelvin=kelvin
        )
        for light, fields, kelvin in (
            (bridged.light, {}, None),
            (strip, {"brightness": 255}, None),
            (white, {"brightness": 255, "color_temp_kelvin": 3600}, [2200, 5000]),
            (colour, {"brightness": 255, "rgb": [255, 255, 255]}, None),
        )
    ]
    with device_socket(
        bridged.hub.ws_url, device.device_id, DEVICE_SECRET, hello, capabilities=protocol.capabilities()
    ) as sock:
        ha.publish(
            f"{base}/light/{strip.pk}/set", json.dumps({"state": "ON", "brightness": 64, "transition": 1.5})
        )
        entry = receive_state_set(sock)
        assert (entry["light"], entry["state"], entry["transition_ms"]) == (
            "Strip",
            {"on": True, "brightness": 64},
            1500,
        )
        sock.send(
            protocol.encode(
                protocol.build_state_report(
                    [protocol.light_entry("Kitchen", "Strip", entry["state"], entry["version"])]
                )
            )
        )
        ha.wait_for(
            f"{base}/light/{strip.pk}/state", {"state": "ON", "color_mode": "brightness", "brightness": 64}
        )

        ha.publish(f"{base}/light/{white.pk}/set", json.dumps({"state": "ON", "color_temp": 2700}))
        entry = receive_state_set(sock)
        assert entry["state"]["color_temp_kelvin"] == 2700 and "transition_ms" not in entry
        sock.send(
            protocol.encode(
                protocol.build_state_report(
                    [protocol.light_entry("Kitchen", "White", entry["state"], entry["version"])]
                )
            )
        )
        ha.wait_for(
            f"{base}/light/{white.pk}/state",
            {"state": "ON", "color_mode": "color_temp", "brightness": 255, "color_temp": 2700},
        )

        ha.publish(
            f"{base}/light/{colour.pk}/set",
            json.dumps({"state": "ON", "color": {"r": 0, "g": 128, "b": 255}}),
        )
        entry = receive_state_set(sock)
        assert entry["state"]["rgb"] == [0, 128, 255]
        # Out of the light's range: brought to its nearest end, as Home Assistant's own lights do.
        ha.publish(f"{base}/light/{white.pk}/set", json.dumps({"state": "ON", "color_temp": 9000}))
        entry = receive_state_set(sock)
        assert (entry["light"], entry["state"]["color_temp_kelvin"]) == ("White", 5000)
        # A colour for a white light: ignored, nothing stored.
        version = Light.objects.get(pk=white.pk).desired_version
        ha.publish(
            f"{base}/light/{white.pk}/set", json.dumps({"state": "ON", "color": {"r": 1, "g": 2, "b": 3}})
        )
        ha.publish(f"{base}/light/{strip.pk}/set", json.dumps({"state": "OFF", "transition": 2}))
        entry = receive_state_set(sock)
        assert (entry["light"], entry["state"], entry["transition_ms"]) == (
            "Strip",
            {"on": False, "brightness": 64},
            2000,
        )
        assert Light.objects.get(pk=white.pk).desired_version == version


def test_a_command_sent_as_soon_as_the_bridge_says_online_is_applied(
    private_port: int, mqtt_settings: SimpleNamespace, live_hub: LiveHub, tmp_path: Path
) -> None:
    # Home Assistant sends commands once the bridge is online (after a hub restart, at once): the
    # bridge must already be subscribed then, since commands are not retained.
    base = mqtt_settings.base
    light = LightFactory(room=RoomFactory(name="Hall"), name="Lamp")
    sent = threading.Event()

    def command_at_online(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.topic == f"{base}/bridge/status" and message.payload == b"online" and not sent.is_set():
            sent.set()
            client.publish(f"{base}/light/{light.pk}/set", b"ON", qos=1)

    with private_broker(private_port, tmp_path):
        ha = FakeHomeAssistant([base], ("127.0.0.1", private_port))
        ha.client.on_message = command_at_online
        try:
            assert sent.wait(20), "the bridge never said online"
            wait_db(lambda: Light.objects.get(pk=light.pk).desired_on)
        finally:
            ha.close()
