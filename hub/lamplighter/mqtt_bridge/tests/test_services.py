"""The bridge's pure parts and services: topics, payloads, command parsing, the leader lease."""

import json
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory
from lamplighter.firmware import protocol
from lamplighter.infra import realtime
from lamplighter.lights import delivery
from lamplighter.lights.models import Light
from lamplighter.mqtt_bridge import discovery, holders
from lamplighter.mqtt_bridge.bridge import MqttBridge, parse_mqtt_url
from lamplighter.mqtt_bridge.discovery import Topics
from lamplighter.mqtt_bridge.models import BridgeLease
from lamplighter.mqtt_bridge.selectors import bridge_lights
from lamplighter.mqtt_bridge.services import (
    bridge_lease_acquire,
    bridge_lease_release,
    bridge_light_command,
    mireds_to_kelvin,
    parse_light_command,
)

TOPICS = Topics(base="lamplighter", prefix="homeassistant")


def test_topics_and_command_parsing() -> None:
    assert TOPICS.light_config(7) == "homeassistant/light/lamplighter_light_7/config"
    assert TOPICS.parse_command("lamplighter/light/7/set") == ("light", 7)
    assert TOPICS.parse_command("lamplighter/scene/3/set") == ("scene", 3)
    for topic in (
        "lamplighter/light/x/set",
        "other/light/7/set",
        "lamplighter/light/7/state",
        "lamplighter/door/1/set",
    ):
        assert TOPICS.parse_command(topic) is None
    assert TOPICS.owns_config("homeassistant/light/lamplighter_light_9/config")
    assert not TOPICS.owns_config("homeassistant/light/zigbee_light_9/config")


@pytest.mark.parametrize(
    ("payload", "on"),
    [(b'{"state": "ON"}', True), (b'{"state":"off"}', False), (b"ON", True), (b" off ", False)],
)
def test_light_commands_that_are_understood(payload: bytes, on: bool) -> None:
    assert parse_light_command(payload) == ({"on": on}, None, None)


@pytest.mark.parametrize(
    ("payload", "state", "transition_ms"),
    [
        (b'{"state": "ON", "brightness": 128}', {"on": True, "brightness": 128}, None),
        (
            b'{"state": "ON", "color_temp": 3000, "transition": 2.5}',
            {"on": True, "color_temp_kelvin": 3000},
            2500,
        ),
        (b'{"state": "ON", "color": {"r": 255, "g": 0, "b": 10}}', {"on": True, "rgb": [255, 0, 10]}, None),
        (b'{"state": "OFF", "transition": 1}', {"on": False}, 1000),
    ],
)
def test_brightness_colour_and_transition_commands(
    payload: bytes, state: dict, transition_ms: int | None
) -> None:
    assert parse_light_command(payload) == (state, transition_ms, None)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"{}",
        b"[1]",
        b'{"state": "DIM"}',
        b"\xff\xfe",
        b"not json",
        b"null",
        b'{"state": "ON", "color": [1, 2, 3]}',
        b'{"state": "ON", "transition": "slow"}',
        b'{"state": "ON", "transition": Infinity}',
        b'{"state": "ON", "transition": NaN}',
        b'{"state": "ON", "transition": 1e308}',
        b'{"state": "ON", "flash": "short"}',
        b'{"state": "ON", "flash": true}',
        b'{"state": "ON", "flash": 1e308}',
        b'{"flash": 0}',
    ],
)
def test_bad_light_commands_raise(payload: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        parse_light_command(payload)


@pytest.mark.parametrize(
    ("payload", "state", "flash_ms"),
    [
        (b'{"state": "ON", "flash": 2}', {"on": True}, 2000),  # Home Assistant's flash short
        (b'{"state": "ON", "flash": 10}', {"on": True}, 10000),  # and long
        (b'{"state": "OFF", "flash": 2}', {"on": False}, 2000),
        (b'{"state": "ON", "brightness": 40, "flash": 0.5}', {"on": True, "brightness": 40}, 500),
        (b'{"flash": 2}', {}, 2000),  # a flash alone
        (b'{"state": "ON", "flash": 600}', {"on": True}, 60000),  # cut to the protocol's longest
        (b'{"state": "ON", "flash": 0}', {"on": True}, None),  # no flash
        (b'{"state": "ON", "flash": -3}', {"on": True}, None),
    ],
)
def test_flash_commands(payload: bytes, state: dict, flash_ms: int | None) -> None:
    assert parse_light_command(payload) == (state, None, flash_ms)


def test_mqtt_urls() -> None:
    plain = parse_mqtt_url("mqtt://ha%40home:p%3Ass@broker.lan")
    assert (plain.host, plain.port, plain.username, plain.password, plain.tls) == (
        "broker.lan",
        1883,
        "ha@home",
        "p:ss",
        False,
    )
    assert parse_mqtt_url("mqtts://broker.lan").port == 8883
    with pytest.raises(ValueError):
        parse_mqtt_url("http://broker.lan")


@pytest.mark.django_db
def test_discovery_config_of_a_light_with_its_device() -> None:
    home = HomeFactory(name="Cabin")
    device = DeviceFactory(
        home=home, name="kitchen-board", board="m5core2", firmware_version="2.0.1", online=True
    )
    light = LightFactory(
        room=RoomFactory(home=home, name="Kitchen"), name="Ceiling", device=device, reported_on=True
    )
    [row] = bridge_lights()
    config = discovery.light_config_payload(TOPICS, row, "0.1.0")
    assert config["unique_id"] == f"lamplighter_light_{light.pk}"
    assert config["name"] == "Kitchen Ceiling"
    assert config["schema"] == "json"
    assert config["command_topic"] == f"lamplighter/light/{light.pk}/set"
    assert config["state_topic"] == f"lamplighter/light/{light.pk}/state"
    assert config["availability"] == [
        {"topic": "lamplighter/bridge/status"},
        {"topic": f"lamplighter/light/{light.pk}/availability"},
    ]
    assert config["device"] == {
        "identifiers": [f"lamplighter_{device.device_id}"],
        "name": "kitchen-board",
        "manufacturer": "Lamplighter",
        "model": "m5core2",
        "sw_version": "2.0.1",
    }
    assert discovery.light_state_payload(row) == '{"state": "ON"}'
    assert discovery.light_availability_payload(row) == "online"


@pytest.mark.django_db
def test_a_bad_command_is_ignored_and_a_good_one_sets_the_desired_state() -> None:
    light = LightFactory()
    assert bridge_light_command(light_id=light.pk, payload=b"garbage") is None
    assert bridge_light_command(light_id=999999, payload=b'{"state": "ON"}') is None
    updated = bridge_light_command(light_id=light.pk, payload=b'{"state": "ON"}')
    assert updated is not None and (updated.desired_on, updated.desired_version) == (True, 2)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The messages handed to the devices' sockets."""
    messages: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(delivery.realtime, "send_many_to_devices", messages.extend)
    return messages


def _flashing_light(capability: int = protocol.LIGHTS_FLASH) -> Light:
    device = DeviceFactory(lights_capability=capability, channel_name="ws-1")
    return LightFactory(
        room=RoomFactory(home=device.home), device=device, kind="dimmable", desired_brightness=90
    )


@pytest.mark.django_db
def test_on_with_flash_switches_on_then_flashes_the_state_it_set(
    sent: list, django_capture_on_commit_callbacks: Any
) -> None:
    light = _flashing_light()
    with django_capture_on_commit_callbacks(execute=True):
        updated = bridge_light_command(light_id=light.pk, payload=b'{"state": "ON", "flash": 2}')
    assert updated is not None and (updated.desired_on, updated.desired_version) == (True, 2)
    [(_, switch), (_, flash)] = sent  # in this order, on the device's socket
    [switched] = switch["data"]["lights"]
    [flashed] = flash["data"]["lights"]
    assert "flash_ms" not in switched and switched["state"] == {"on": True, "brightness": 90}
    assert flashed == dict(switched, flash_ms=2000)  # the same state and version: nothing new to apply
    assert flashed["version"] == 2 and flashed["cause"] == protocol.CAUSE_HA


@pytest.mark.django_db
def test_a_flash_alone_takes_no_version(sent: list, django_capture_on_commit_callbacks: Any) -> None:
    light = _flashing_light()
    with django_capture_on_commit_callbacks(execute=True):
        updated = bridge_light_command(light_id=light.pk, payload=b'{"flash": 10}')
    assert updated is not None and updated.desired_version == 1
    [(_, flash)] = sent
    assert flash["data"]["lights"][0]["flash_ms"] == 10000 and flash["data"]["lights"][0]["version"] == 1


@pytest.mark.django_db
def test_a_flash_the_device_cannot_run_is_logged_and_the_state_still_applies(
    sent: list, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    light = _flashing_light(protocol.LIGHTS_ADAPTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        updated = bridge_light_command(light_id=light.pk, payload=b'{"state": "ON", "flash": 2}')
    assert updated is not None and updated.desired_on is True
    [(_, switch)] = sent
    assert "flash_ms" not in switch["data"]["lights"][0]
    assert f"MQTT flash of light {light.pk} not done" in caplog.text and "cannot flash" in caplog.text
    offline = LightFactory(device=DeviceFactory(lights_capability=protocol.LIGHTS_FLASH))
    with django_capture_on_commit_callbacks(execute=True):
        bridge_light_command(light_id=offline.pk, payload=b'{"flash": 2}')
    assert f"flash of light {offline.pk} not sent: its device has no live connection" in caplog.text


@pytest.mark.django_db
def test_the_lease_has_one_holder_until_it_expires() -> None:
    now = timezone.now()
    assert bridge_lease_acquire(holder="a", seconds=30, now=now)
    assert not bridge_lease_acquire(holder="b", seconds=30, now=now + timedelta(seconds=10))
    assert bridge_lease_acquire(holder="a", seconds=30, now=now + timedelta(seconds=10))  # renewal
    assert not bridge_lease_acquire(holder="b", seconds=30, now=now + timedelta(seconds=39))
    assert bridge_lease_acquire(holder="b", seconds=30, now=now + timedelta(seconds=41))  # a stopped renewing
    assert not bridge_lease_acquire(holder="a", seconds=30, now=now + timedelta(seconds=42))
    bridge_lease_release(holder="b")
    assert bridge_lease_acquire(holder="a", seconds=30, now=now + timedelta(seconds=43))


@pytest.mark.django_db(transaction=True)
def test_a_message_of_presence_and_light_events_is_one_read_and_one_publish_per_light(
    django_assert_num_queries: Any,
) -> None:
    home = HomeFactory()
    room = RoomFactory(home=home)
    devices = [DeviceFactory(home=home) for _ in range(3)]
    lights = [LightFactory(room=room, device=device) for device in devices for _ in range(2)]
    elsewhere = LightFactory(room=room, device=DeviceFactory(home=home))
    bridge = MqttBridge(url="mqtt://127.0.0.1")
    published: list[int] = []

    async def record(row: dict[str, Any], *, force: bool = False) -> None:
        published.append(row["id"])

    bridge._publish_light = record  # type: ignore[method-assign]
    events = [realtime.device_presence_event({"device_id": d.device_id}) for d in devices]
    events.append(realtime.light_state_event({"id": lights[0].pk}))  # also in a device above
    with django_assert_num_queries(1):
        async_to_sync(bridge.handle_event)({"type": realtime.HOME_EVENT, "events": events})
    assert sorted(published) == sorted(light.pk for light in lights)
    assert elsewhere.pk not in published


@pytest.mark.django_db
def test_bridge_lights_of_no_light_and_no_device_is_empty() -> None:
    LightFactory()
    assert bridge_lights(light_ids=[], device_ids=[]) == []
    assert len(bridge_lights()) == 1


@pytest.mark.parametrize(
    ("mireds", "kelvin"),
    [(333, 3000), (370, 2700), (154, 6500), (179, 5600), (200, 5000), (250, 4000), (371, 2695), (153, 6550)],
)
def test_mireds_become_the_roundest_kelvin_they_stand_for(mireds: int, kelvin: int) -> None:
    assert mireds_to_kelvin(mireds) == kelvin
    assert discovery.kelvin_to_mireds(kelvin) == mireds  # and back: the same mired


def test_a_colour_temperature_in_mireds_is_read_as_kelvin() -> None:
    payload = b'{"state": "ON", "color_temp": 333}'
    assert parse_light_command(payload, mireds=True) == ({"on": True, "color_temp_kelvin": 3000}, None, None)
    assert parse_light_command(payload) == ({"on": True, "color_temp_kelvin": 333}, None, None)
    for bad in (b'{"color_temp": 0}', b'{"color_temp": "warm"}', b'{"color_temp": true}'):
        state, _, _ = parse_light_command(bad, mireds=True)
        assert state["color_temp_kelvin"] == json.loads(bad)["color_temp"]  # left for the light to refuse


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "mireds", "kelvin"),
    [
        (b'{"state": "ON", "color_temp": 2000}', False, 2700),
        (b'{"state": "ON", "color_temp": 9000}', False, 5000),
        (b'{"state": "ON", "color_temp": 3500}', False, 3500),
        (b'{"state": "ON", "color_temp": 500}', True, 2700),  # 2000 K
        (b'{"state": "ON", "color_temp": 111}', True, 5000),  # 9009 K
    ],
)
def test_a_colour_temperature_outside_the_range_is_brought_to_its_nearest_end(
    payload: bytes, mireds: bool, kelvin: int
) -> None:
    light = LightFactory(kind="tunable_white", min_kelvin=2700, max_kelvin=5000)
    updated = bridge_light_command(light_id=light.pk, payload=payload, mireds=mireds)
    assert updated is not None and updated.desired_color_temp_kelvin == kelvin


@pytest.mark.django_db
def test_a_bad_colour_temperature_is_still_refused() -> None:
    light = LightFactory(kind="tunable_white")
    assert bridge_light_command(light_id=light.pk, payload=b'{"state": "ON", "color_temp": "warm"}') is None
    light.refresh_from_db()
    assert light.desired_version == 1


@pytest.mark.django_db
def test_discovery_and_state_in_mireds_for_older_home_assistant() -> None:
    light = LightFactory(
        kind="tunable_white", min_kelvin=2700, max_kelvin=6500, reported_on=True, reported_brightness=9
    )
    Light.objects.filter(pk=light.pk).update(reported_color_temp_kelvin=3000)
    [row] = bridge_lights()
    kelvin = discovery.light_config_payload(TOPICS, row, "0.1.0")
    assert (kelvin["color_temp_kelvin"], kelvin["min_kelvin"], kelvin["max_kelvin"]) == (True, 2700, 6500)
    assert "min_mireds" not in kelvin and "color_mode" not in kelvin
    mireds = discovery.light_config_payload(TOPICS, row, "0.1.0", mireds=True)
    assert (mireds["min_mireds"], mireds["max_mireds"]) == (154, 370)  # 6494 K and 2703 K: inside
    assert "color_temp_kelvin" not in mireds and "min_kelvin" not in mireds
    assert json.loads(discovery.light_state_payload(row) or "")["color_temp"] == 3000
    assert json.loads(discovery.light_state_payload(row, mireds=True) or "")["color_temp"] == 333


def _exited_process() -> tuple[int, str]:
    """The pid and start time of a process that ran and was reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    start = holders._process_start(process.pid)
    process.wait()
    return process.pid, start or ""


def test_holder_names_tell_a_gone_process_of_this_machine() -> None:
    me = holders.holder_name()
    assert not holders.holder_is_gone(me)
    host, pid, start, space, _ = me.rsplit(":", 4)
    dead_pid, dead_start = _exited_process()
    assert holders.holder_is_gone(f"{host}:{dead_pid}:{dead_start}:{space}:abc")
    # The same pid started again later is another process: the old holder is gone.
    assert holders.holder_is_gone(f"{host}:{pid}:{int(start) - 1}:{space}:abc")
    # Another machine or pid namespace, an older hub's name, no start time: cannot be told.
    assert not holders.holder_is_gone(f"{host}:{dead_pid}:{dead_start}:0123456789ab:abc")
    assert not holders.holder_is_gone(f"{host}:{dead_pid}:abc")
    assert not holders.holder_is_gone(f"{host}:{dead_pid}::{space}:abc")


def test_a_killed_process_not_yet_reaped_is_gone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = holders._process_start(process.pid)
        space = holders.holder_name().rsplit(":", 4)[3]
        holder = f"host:{process.pid}:{start}:{space}:abc"
        assert not holders.holder_is_gone(holder)
        process.send_signal(signal.SIGKILL)
        # A zombie until reaped: its /proc entry stays, in state Z.
        wait_for(lambda: (holders.PROC / str(process.pid) / "stat").read_text().split(") ")[1][0] == "Z")
        assert holders.holder_is_gone(holder)
    finally:
        process.kill()
        process.wait()


@pytest.mark.django_db
def test_the_lease_of_a_crashed_worker_of_this_machine_is_taken_over_at_once() -> None:
    now = timezone.now()
    space = holders.holder_name().rsplit(":", 4)[3]
    dead_pid, dead_start = _exited_process()
    crashed = f"host:{dead_pid}:{dead_start}:{space}:abc"
    assert bridge_lease_acquire(holder=crashed, seconds=30, now=now)
    me = holders.holder_name()
    assert bridge_lease_acquire(holder=me, seconds=30, now=now + timedelta(seconds=1))
    assert BridgeLease.objects.get().holder == me
    # A live worker's lease (this process) is not taken, however it is named elsewhere.
    other = holders.holder_name()
    assert not bridge_lease_acquire(holder=other, seconds=30, now=now + timedelta(seconds=2))
    # Nor the lease of a worker on another machine, gone or not: it runs out first.
    bridge_lease_release(holder=me)
    elsewhere = f"host:{dead_pid}:{dead_start}:0123456789ab:abc"
    assert bridge_lease_acquire(holder=elsewhere, seconds=30, now=now)
    assert not bridge_lease_acquire(holder=me, seconds=30, now=now + timedelta(seconds=29))
    assert bridge_lease_acquire(holder=me, seconds=30, now=now + timedelta(seconds=31))


def wait_for(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
