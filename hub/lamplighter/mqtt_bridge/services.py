"""Writes for the MQTT bridge: the leader lease, and commands arriving from Home Assistant."""

import json
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone

from lamplighter.lights.models import Light
from lamplighter.lights.services import light_command_apply
from lamplighter.lights.state import LightStateError, light_command
from lamplighter.mqtt_bridge.models import BridgeLease

logger = logging.getLogger(__name__)

LEASE_NAME = "mqtt-bridge"
# Channel-layer group of the running bridge, and the message asking it to re-check everything.
BRIDGE_GROUP = "mqtt-bridge"
BRIDGE_RESYNC = "bridge.resync"


def bridge_lease_acquire(*, holder: str, seconds: int, now: datetime | None = None) -> bool:
    """Take or renew the bridge lease for `holder`; False while another worker holds it unexpired."""
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=seconds)
    with transaction.atomic():
        # One conditional UPDATE: the database decides between racing workers.
        taken = BridgeLease.objects.filter(name=LEASE_NAME).filter(holder=holder).update(
            expires_at=expires_at
        ) or BridgeLease.objects.filter(name=LEASE_NAME, expires_at__lt=now).update(
            holder=holder, expires_at=expires_at
        )
        if taken:
            return True
    try:
        with transaction.atomic():
            BridgeLease.objects.create(name=LEASE_NAME, holder=holder, expires_at=expires_at)
    except IntegrityError:
        return False  # someone else holds it (or created it a moment ago)
    return True


def bridge_lease_release(*, holder: str) -> None:
    """Give the lease up at once (clean shutdown), so another worker can take over without waiting."""
    BridgeLease.objects.filter(name=LEASE_NAME, holder=holder).delete()


def bridge_resync_request() -> None:
    """Ask the running bridge (in whichever worker) to re-publish what changed (callable from sync code)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(BRIDGE_GROUP, {"type": BRIDGE_RESYNC})


def parse_light_command(payload: bytes) -> tuple[dict[str, Any], int | None]:
    """(the partial state, transition_ms) a Home Assistant light command asks for (JSON schema, or
    plain ON/OFF); ValueError if it asks for nothing this hub understands.

    JSON schema fields: state ON/OFF, brightness (0-255), color_temp (kelvin: the discovery
    config sets color_temp_kelvin), color {r, g, b}, transition (seconds).
    """
    text = payload.decode("utf-8", errors="strict").strip()
    if text.upper() in ("ON", "OFF"):
        return {"on": text.upper() == "ON"}, None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    state: dict[str, Any] = {}
    if "state" in data:
        if str(data["state"]).upper() not in ("ON", "OFF"):
            raise ValueError('state must be "ON" or "OFF"')
        state["on"] = str(data["state"]).upper() == "ON"
    if "brightness" in data:
        state["brightness"] = data["brightness"]
    if "color_temp" in data:
        state["color_temp_kelvin"] = data["color_temp"]
    if "color" in data:
        color = data["color"]
        if not isinstance(color, dict) or not all(key in color for key in "rgb"):
            raise ValueError("color must be {r, g, b}")
        state["rgb"] = [color["r"], color["g"], color["b"]]
    if not state:
        raise ValueError('expected {"state": "ON"|"OFF", ...}')
    if state.get("on") is False:  # Home Assistant sends OFF alone; a level with it would light up
        state = {"on": False}
    transition = data.get("transition")
    if transition is None:
        return state, None
    if (
        isinstance(transition, bool)
        or not isinstance(transition, (int, float))
        or not math.isfinite(transition)
    ):
        raise ValueError("transition must be a number of seconds")
    return state, round(transition * 1000)


def bridge_light_command(*, light_id: int, payload: bytes) -> Light | None:
    """Apply a command from the light's command topic through the one desired-state path.

    Bad payloads, states the light refuses and unknown lights are logged and ignored (None): the
    bridge never stops for them.
    """
    try:
        state, transition_ms = parse_light_command(payload)
    except (ValueError, UnicodeDecodeError) as error:
        logger.warning("MQTT command for light %s ignored: %s", light_id, error)
        return None
    try:
        command = light_command({**state, "transition_ms": transition_ms})
        light = light_command_apply(light_id=light_id, command=command)
    except LightStateError as error:
        logger.warning("MQTT command for light %s ignored: %s", light_id, "; ".join(error.messages))
        return None
    if light is None:
        logger.warning("MQTT command for unknown light %s ignored", light_id)
    return light


def bridge_scene_command(*, scene_id: int, payload: bytes) -> bool:
    """Apply a scene when Home Assistant activates it (payload ON); False when ignored."""
    from lamplighter.automations.models import Scene
    from lamplighter.automations.services import scene_apply

    if payload.strip().upper() not in (b"ON", b""):
        logger.warning("MQTT command for scene %s ignored: payload %r", scene_id, payload[:40])
        return False
    scene = Scene.objects.filter(pk=scene_id).first()
    if scene is None:
        logger.warning("MQTT command for unknown scene %s ignored", scene_id)
        return False
    scene_apply(scene=scene)
    return True
