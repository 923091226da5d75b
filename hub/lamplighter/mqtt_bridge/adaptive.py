"""Adaptive white in Home Assistant: a `switch` entity per light that dims and per room with such
lights, over MQTT discovery (additive to the bridge's lights and scenes).

    <base>/adaptive/light/<id>/state                    ON/OFF (retained): the light follows the curve
    <base>/adaptive/light/<id>/set                      ON/OFF from Home Assistant
    <base>/adaptive/room/<id>/state, .../set            the same for every light of a room that dims
    <prefix>/switch/<base>_adaptive_light_<id>/config   discovery (retained; empty removes it)
    <prefix>/switch/<base>_adaptive_room_<id>/config
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from lamplighter.adaptive import services as adaptive_services
from lamplighter.adaptive.selectors import rooms_adaptive
from lamplighter.firmware import protocol
from lamplighter.homes.models import Room
from lamplighter.lights.models import Light
from lamplighter.mqtt_bridge.discovery import MANUFACTURER, Topics, _slug, encode

logger = logging.getLogger(__name__)

LIGHT, ROOM = "light", "room"


def unique_id(topics: Topics, what: str, object_id: int) -> str:
    """The switch's unique_id in Home Assistant."""
    return f"{_slug(topics.base)}_adaptive_{what}_{object_id}"


def config_topic(topics: Topics, what: str, object_id: int) -> str:
    """Discovery config topic of a light's or room's adaptive switch."""
    return f"{topics.prefix}/switch/{unique_id(topics, what, object_id)}/config"


def state_topic(topics: Topics, what: str, object_id: int) -> str:
    """Where the switch's state (ON: following the curve) is published."""
    return f"{topics.base}/adaptive/{what}/{object_id}/state"


def command_topic(topics: Topics, what: str, object_id: int) -> str:
    """Where Home Assistant switches it."""
    return f"{topics.base}/adaptive/{what}/{object_id}/set"


def command_filters(topics: Topics) -> list[str]:
    """Subscriptions for the switches' commands."""
    return [f"{topics.base}/adaptive/+/+/set"]


def config_filters(topics: Topics) -> list[str]:
    """Subscriptions that show retained switch configs (to clear stale ones)."""
    return [f"{topics.prefix}/switch/+/config"]


def parse_command(topics: Topics, topic: str) -> tuple[str, int] | None:
    """(LIGHT|ROOM, id) for an adaptive command topic of this bridge, else None."""
    prefix = f"{topics.base}/adaptive/"
    if not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :].split("/")
    if len(rest) != 3 or rest[0] not in (LIGHT, ROOM) or not rest[1].isdigit() or rest[2] != "set":
        return None
    return rest[0], int(rest[1])


def config_payload(topics: Topics, what: str, row: dict[str, Any], hub_version: str) -> dict[str, Any]:
    """A switch's discovery config; `row` as switch_rows gives it."""
    object_id = row["id"]
    return {
        "name": f"{row['name']} adaptive white",
        "unique_id": unique_id(topics, what, object_id),
        "command_topic": command_topic(topics, what, object_id),
        "state_topic": state_topic(topics, what, object_id),
        "payload_on": "ON",
        "payload_off": "OFF",
        "icon": "mdi:theme-light-dark",
        "availability": [{"topic": topics.bridge_status}],
        "device": row["device"],
        "origin": {"name": MANUFACTURER, "sw_version": hub_version},
    }


def switch_rows(*, base: str, light_ids: list[int] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The switches to publish (every light that dims and every room with one; or only these
    lights and their rooms), each with its state and the device it belongs to in Home Assistant
    (the light's own, as in its discovery config; a room's: its home's). `base`: the bridge's
    base topic."""
    slug = _slug(base)
    lights = (
        Light.objects.exclude(kind=protocol.KIND_ONOFF).select_related("room__home", "device").order_by("pk")
    )
    if light_ids is not None:
        lights = lights.filter(pk__in=light_ids)
    light_rows, room_ids = [], set()
    for light in lights:
        room_ids.add(light.room_id)
        light_rows.append(
            {
                "id": light.pk,
                "name": f"{light.room.name} {light.name}",
                "on": light.adaptive,
                "device": _light_device(slug, light),
            }
        )
    rooms = Room.objects.filter(pk__in=room_ids).select_related("home").order_by("pk")
    following = rooms_adaptive(room_ids=list(room_ids))
    room_rows = [
        {
            "id": room.pk,
            "name": room.name,
            "on": room.pk in following,
            "device": _home_device(slug, room.home_id, room.home.name),
        }
        for room in rooms
    ]
    return {LIGHT: light_rows, ROOM: room_rows}


def _light_device(slug: str, light: Light) -> dict[str, Any]:
    # The same device as the light's entity (discovery._device_info), so the switch sits beside it.
    if light.device is None:
        return _home_device(slug, light.room.home_id, light.room.home.name)
    return {"identifiers": [f"{slug}_{light.device.device_id}"], "name": light.device.name}


def _home_device(slug: str, home_id: int, name: str) -> dict[str, Any]:
    return {
        "identifiers": [f"{slug}_home_{home_id}"],
        "name": name,
        "manufacturer": MANUFACTURER,
        "model": "Lamplighter hub",
    }


def bridge_adaptive_command(*, what: str, object_id: int, payload: bytes) -> bool:
    """Switch adaptive white for a light or room from Home Assistant (ON/OFF); False when ignored
    (a bad payload, an unknown light or room, or a switch adaptive white refuses: logged)."""
    text = payload.strip().upper()
    if text not in (b"ON", b"OFF"):
        logger.warning("MQTT adaptive command for %s %s ignored: payload %r", what, object_id, payload[:40])
        return False
    on = text == b"ON"
    try:
        if what == LIGHT:
            light = Light.objects.select_related("room__home").filter(pk=object_id).first()
            if light is None:
                logger.warning("MQTT adaptive command for unknown light %s ignored", object_id)
                return False
            adaptive_services.light_adaptive_set(light=light, adaptive=on)
        else:
            room = Room.objects.select_related("home").filter(pk=object_id).first()
            if room is None:
                logger.warning("MQTT adaptive command for unknown room %s ignored", object_id)
                return False
            adaptive_services.room_adaptive_set(room=room, adaptive=on)
    except ValidationError as error:
        logger.warning(
            "MQTT adaptive command for %s %s ignored: %s", what, object_id, "; ".join(error.messages)
        )
        return False
    return True


class AdaptiveSwitches:
    """What the bridge publishes and takes for the adaptive switches (bridge.MqttBridge holds one)."""

    def __init__(self, topics: Topics, hub_version: str) -> None:
        self.topics = topics
        self.hub_version = hub_version
        self.ids: dict[str, set[int]] = {LIGHT: set(), ROOM: set()}
        self.following: dict[int, bool] = {}  # light id -> adaptive, as last published

    def switched(self, lights: list[dict[str, Any]]) -> list[int]:
        """Of these lights (as their state events show them), those whose adaptive switch changed
        since it was published: only they (and their rooms) need reading again."""
        return [
            light["id"]
            for light in lights
            if "adaptive" in light
            and light["id"] in self.following
            and self.following[light["id"]] != light["adaptive"]
        ]

    def expected_configs(self) -> set[str]:
        """The switch configs this bridge publishes now."""
        return {config_topic(self.topics, what, i) for what, ids in self.ids.items() for i in ids}

    async def sync(
        self,
        publish: Callable[..., Awaitable[None]],
        *,
        force: bool = False,
        light_ids: list[int] | None = None,
    ) -> None:
        """Publish the switches (all; or those of these lights and their rooms), and remove the
        entities of lights and rooms that are gone (on a full sync)."""
        rows = await database_sync_to_async(switch_rows)(base=self.topics.base, light_ids=light_ids)
        for what, items in rows.items():
            found = {row["id"] for row in items}
            gone = self.ids[what] - found if light_ids is None else set()
            self.ids[what] = (self.ids[what] - gone) | found
            for row in items:
                if what == LIGHT:
                    self.following[row["id"]] = row["on"]
                config = config_payload(self.topics, what, row, self.hub_version)
                await publish(config_topic(self.topics, what, row["id"]), encode(config), force=force)
                await publish(
                    state_topic(self.topics, what, row["id"]), "ON" if row["on"] else "OFF", force=force
                )
            for object_id in gone:
                if what == LIGHT:
                    self.following.pop(object_id, None)
                for topic in (
                    config_topic(self.topics, what, object_id),
                    state_topic(self.topics, what, object_id),
                ):
                    await publish(topic, "", force=True)

    async def handle_command(self, topic: str, payload: bytes, *, retained: bool) -> bool:
        """Take a switch command (True: the topic was one, handled or ignored)."""
        command = parse_command(self.topics, topic)
        if command is None:
            return False
        if retained:
            logger.warning("retained MQTT command on %s ignored", topic)
            return True
        what, object_id = command
        await database_sync_to_async(bridge_adaptive_command)(what=what, object_id=object_id, payload=payload)
        return True
