"""Adaptive white in Home Assistant over a real broker: a switch per light that dims and per room,
switched from Home Assistant through the hub's services, its state following the hub."""

import json
from types import SimpleNamespace

import pytest

from factories import HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.adaptive.services import light_adaptive_set
from lamplighter.lights.models import Light
from lamplighter.mqtt_bridge.tests.test_bridge import (  # noqa: F401 - fixtures
    WAIT,
    FakeHomeAssistant,
    _broker_up,
    home_assistant,
    mqtt_settings,
    wait_db,
)

pytestmark = [
    pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def adaptive_home(
    mqtt_settings: SimpleNamespace,  # noqa: F811 - the fixture imported above
    live_hub: object,
    home_assistant: FakeHomeAssistant,  # noqa: F811
) -> SimpleNamespace:
    home = HomeFactory(owner=UserFactory(), name="Cabin", latitude=60.0, longitude=10.0)
    room = RoomFactory(home=home, name="Kitchen")
    white = LightFactory(room=room, name="Ceiling", kind="tunable_white")
    plain = LightFactory(room=room, name="Plug", kind="onoff")
    return SimpleNamespace(
        ha=home_assistant,
        base=mqtt_settings.base,
        prefix=mqtt_settings.prefix,
        room=room,
        white=white,
        plain=plain,
    )


def test_switches_are_discovered_and_switch_adaptive_white(adaptive_home: SimpleNamespace) -> None:
    ha, base, prefix, room, white, plain = (
        adaptive_home.ha,
        adaptive_home.base,
        adaptive_home.prefix,
        adaptive_home.room,
        adaptive_home.white,
        adaptive_home.plain,
    )
    slug = base.replace("-", "_")
    config = json.loads(ha.wait_for(f"{prefix}/switch/{slug}_adaptive_light_{white.pk}/config"))
    assert config["command_topic"] == f"{base}/adaptive/light/{white.pk}/set"
    assert config["state_topic"] == f"{base}/adaptive/light/{white.pk}/state"
    assert config["name"] == "Kitchen Ceiling adaptive white"
    room_config = json.loads(ha.wait_for(f"{prefix}/switch/{slug}_adaptive_room_{room.pk}/config"))
    assert room_config["device"]["name"] == "Cabin"
    ha.wait_for(f"{base}/adaptive/light/{white.pk}/state", b"OFF")
    assert f"{prefix}/switch/{slug}_adaptive_light_{plain.pk}/config" not in ha.latest  # it does not dim

    # Home Assistant switches the light: through the hub's service; the state follows.
    ha.publish(f"{base}/adaptive/light/{white.pk}/set", b"ON")
    wait_db(lambda: Light.objects.get(pk=white.pk).adaptive)
    ha.wait_for(f"{base}/adaptive/light/{white.pk}/state", b"ON")
    ha.wait_for(f"{base}/adaptive/room/{room.pk}/state", b"ON")  # its only light that dims follows
    ha.publish(f"{base}/adaptive/light/{white.pk}/set", b"maybe")  # ignored, the bridge carries on
    ha.publish(f"{base}/adaptive/room/{room.pk}/set", b"OFF")
    wait_db(lambda: not Light.objects.get(pk=white.pk).adaptive)
    ha.wait_for(f"{base}/adaptive/light/{white.pk}/state", b"OFF", timeout=WAIT)
    # Switched in the hub: Home Assistant sees it.
    light_adaptive_set(light=Light.objects.select_related("room__home").get(pk=white.pk), adaptive=True)
    ha.wait_for(f"{base}/adaptive/room/{room.pk}/state", b"ON")
