"""Topics and payloads the bridge publishes: Home Assistant MQTT discovery, state and availability.

Every topic string is built here, so the bridge, the tests and the README agree on one layout:

    <base>/bridge/status                      online/offline (retained; offline is the will)
    <base>/light/<id>/state                   {"state": "ON"|"OFF", ...} (retained, the REPORTED state)
    <base>/light/<id>/set                     commands from Home Assistant
    <base>/light/<id>/availability            online/offline (retained, the device's presence)
    <base>/scene/<id>/set                     ON applies the scene
    <prefix>/light/<base>_light_<id>/config   discovery (retained; empty removes the entity)
    <prefix>/scene/<base>_scene_<id>/config
"""

import json
import math
from dataclasses import dataclass
from typing import Any

ONLINE = "online"
OFFLINE = "offline"
MANUFACTURER = "Lamplighter"


@dataclass(frozen=True)
class Topics:
    """The bridge's topic layout for one base topic and discovery prefix."""

    base: str
    prefix: str

    @property
    def bridge_status(self) -> str:
        """The bridge's own availability (its last will says offline)."""
        return f"{self.base}/bridge/status"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/will topic: when it says online, discovery is sent again."""
        return f"{self.prefix}/status"

    def light_unique_id(self, light_id: int) -> str:
        """The light's unique_id in Home Assistant."""
        return f"{_slug(self.base)}_light_{light_id}"

    def scene_unique_id(self, scene_id: int) -> str:
        """The scene's unique_id in Home Assistant."""
        return f"{_slug(self.base)}_scene_{scene_id}"

    def light_config(self, light_id: int) -> str:
        """Discovery config topic of a light."""
        return f"{self.prefix}/light/{self.light_unique_id(light_id)}/config"

    def scene_config(self, scene_id: int) -> str:
        """Discovery config topic of a scene."""
        return f"{self.prefix}/scene/{self.scene_unique_id(scene_id)}/config"

    def light_state(self, light_id: int) -> str:
        """Where the light's reported state is published."""
        return f"{self.base}/light/{light_id}/state"

    def light_command(self, light_id: int) -> str:
        """Where Home Assistant sends a light's commands."""
        return f"{self.base}/light/{light_id}/set"

    def light_availability(self, light_id: int) -> str:
        """Whether the light's device is online."""
        return f"{self.base}/light/{light_id}/availability"

    def scene_command(self, scene_id: int) -> str:
        """Where Home Assistant activates a scene."""
        return f"{self.base}/scene/{scene_id}/set"

    def command_filters(self) -> list[str]:
        """Subscriptions for every command the bridge takes."""
        return [f"{self.base}/light/+/set", f"{self.base}/scene/+/set"]

    def config_filters(self) -> list[str]:
        """Subscriptions that show the configs still retained on the broker (to clear stale ones)."""
        return [f"{self.prefix}/light/+/config", f"{self.prefix}/scene/+/config"]

    def parse_command(self, topic: str) -> tuple[str, int] | None:
        """("light"|"scene", id) for a command topic of this bridge, else None."""
        parts = topic.split("/")
        base_parts = self.base.split("/")
        rest = parts[len(base_parts) :]
        if parts[: len(base_parts)] != base_parts or len(rest) != 3 or rest[2] != "set":
            return None
        if rest[0] not in ("light", "scene") or not rest[1].isdigit():
            return None
        return rest[0], int(rest[1])

    def owns_config(self, topic: str) -> bool:
        """True for a discovery config topic that this bridge (this base topic) publishes."""
        parts = topic.split("/")
        return (
            len(parts) >= 3
            and parts[-1] == "config"
            and parts[-2].startswith(_slug(self.base) + "_")
            and "/".join(parts[:-3]) == self.prefix
        )


# Home Assistant's colour mode of each light kind (firmware/protocol.py's LIGHT_KINDS).
COLOR_MODES = {
    "onoff": "onoff",
    "dimmable": "brightness",
    "tunable_white": "color_temp",
    "rgb": "rgb",
}


def light_config_payload(
    topics: Topics, light: dict[str, Any], hub_version: str, *, mireds: bool = False
) -> dict[str, Any]:
    """A light's discovery config (JSON schema: its colour mode, brightness on a 0-255 scale,
    colour temperature in kelvin, or in mireds when `mireds`, transitions); `light` as
    selectors.bridge_light gives it."""
    light_id = light["id"]
    mode = COLOR_MODES.get(light["kind"], "onoff")
    config: dict[str, Any] = {
        "name": f"{light['room']} {light['name']}",
        "unique_id": topics.light_unique_id(light_id),
        "schema": "json",
        "supported_color_modes": [mode],
        "command_topic": topics.light_command(light_id),
        "state_topic": topics.light_state(light_id),
        "availability": [
            {"topic": topics.bridge_status},
            {"topic": topics.light_availability(light_id)},
        ],
        "availability_mode": "all",
        "device": _device_info(topics, light),
        "origin": {"name": MANUFACTURER, "sw_version": hub_version},
    }
    if mode != "onoff":
        config["brightness"] = True
        config["brightness_scale"] = 255
    if mode == "color_temp" and mireds:
        # The coldest end is the fewest mireds; rounded inwards, so both ends lie inside the range.
        config["min_mireds"] = math.ceil(1_000_000 / light["max_kelvin"])
        config["max_mireds"] = math.floor(1_000_000 / light["min_kelvin"])
    elif mode == "color_temp":
        config["color_temp_kelvin"] = True
        config["min_kelvin"], config["max_kelvin"] = light["min_kelvin"], light["max_kelvin"]
    return config


def scene_config_payload(topics: Topics, scene: dict[str, Any], hub_version: str) -> dict[str, Any]:
    """A scene's discovery config; `scene` as selectors.bridge_scene gives it."""
    return {
        "name": scene["name"],
        "unique_id": topics.scene_unique_id(scene["id"]),
        "command_topic": topics.scene_command(scene["id"]),
        "payload_on": "ON",
        "availability": [{"topic": topics.bridge_status}],
        "device": {
            "identifiers": [f"{_slug(topics.base)}_home_{scene['home_id']}"],
            "name": scene["home_name"],
            "manufacturer": MANUFACTURER,
            "model": "Lamplighter hub",
            "sw_version": hub_version,
        },
        "origin": {"name": MANUFACTURER, "sw_version": hub_version},
    }


def light_state_payload(light: dict[str, Any], *, mireds: bool = False) -> str | None:
    """The retained state message for the light's REPORTED state (colour temperature in kelvin, or
    mireds when `mireds`); None while nothing was reported."""
    if light["reported_on"] is None:
        return None
    state: dict[str, Any] = {"state": "ON" if light["reported_on"] else "OFF"}
    mode = COLOR_MODES.get(light["kind"], "onoff")
    if mode != "onoff":
        state["color_mode"] = mode
        if light["reported_brightness"] is not None:
            state["brightness"] = light["reported_brightness"]
    if mode == "color_temp" and light["reported_color_temp_kelvin"] is not None:
        kelvin = light["reported_color_temp_kelvin"]
        state["color_temp"] = kelvin_to_mireds(kelvin) if mireds else kelvin
    if mode == "rgb" and light["reported_rgb"] is not None:
        red, green, blue = light["reported_rgb"]
        state["color"] = {"r": red, "g": green, "b": blue}
    return json.dumps(state)


def light_availability_payload(light: dict[str, Any]) -> str:
    """online when the light's device is online, else offline (no device: offline)."""
    return ONLINE if light["device_online"] else OFFLINE


def kelvin_to_mireds(kelvin: int) -> int:
    """Mireds for a colour temperature in kelvin (rounded), as older Home Assistant reads them."""
    return round(1_000_000 / kelvin)


def encode(payload: dict[str, Any]) -> str:
    """Compact, stable JSON (sorted keys, so an unchanged config compares equal)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def _device_info(topics: Topics, light: dict[str, Any]) -> dict[str, Any]:
    if light["device_id"] is None:
        # A light without a controller: grouped under its home, so it still has a device page.
        return {
            "identifiers": [f"{_slug(topics.base)}_home_{light['home_id']}"],
            "name": light["home_name"],
            "manufacturer": MANUFACTURER,
            "model": "Lamplighter hub",
        }
    info = {
        "identifiers": [f"{_slug(topics.base)}_{light['device_id']}"],
        "name": light["device_name"],
        "manufacturer": MANUFACTURER,
        "model": light["device_board"] or "Lamplighter light controller",
    }
    if light["device_firmware"]:
        info["sw_version"] = light["device_firmware"]
    return info


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)
