"""The bridge's pure parts and services: topics, payloads, command parsing, the leader lease."""

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory
from lamplighter.infra import realtime
from lamplighter.mqtt_bridge import discovery
from lamplighter.mqtt_bridge.bridge import MqttBridge, parse_mqtt_url
from lamplighter.mqtt_bridge.discovery import Topics
from lamplighter.mqtt_bridge.selectors import bridge_lights
from lamplighter.mqtt_bridge.services import (
    bridge_lease_acquire,
    bridge_lease_release,
    bridge_light_command,
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
    assert parse_light_command(payload) == ({"on": on}, None)


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
    assert parse_light_command(payload) == (state, transition_ms)


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
    ],
)
def test_bad_light_commands_raise(payload: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        parse_light_command(payload)


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
