"""Writes for the MQTT bridge: the leader lease, and commands arriving from Home Assistant."""

import json
import logging
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone

from lamplighter.lights.models import Light
from lamplighter.lights.services import light_set_desired
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


def parse_light_command(payload: bytes) -> bool:
    """The on/off a Home Assistant light command asks for (JSON schema, or plain ON/OFF); ValueError if none."""
    text = payload.decode("utf-8", errors="strict").strip()
    if text.upper() in ("ON", "OFF"):
        return text.upper() == "ON"
    data = json.loads(text)
    if not isinstance(data, dict) or str(data.get("state", "")).upper() not in ("ON", "OFF"):
        raise ValueError('expected {"state": "ON"} or {"state": "OFF"}')
    return str(data["state"]).upper() == "ON"


def bridge_light_command(*, light_id: int, payload: bytes) -> Light | None:
    """Apply a command from the light's command topic through the one desired-state path.

    Bad payloads and unknown lights are logged and ignored (None): the bridge never stops for them.
    """
    try:
        on = parse_light_command(payload)
    except (ValueError, UnicodeDecodeError) as error:
        logger.warning("MQTT command for light %s ignored: %s", light_id, error)
        return None
    light = Light.objects.filter(pk=light_id).first()
    if light is None:
        logger.warning("MQTT command for unknown light %s ignored", light_id)
        return None
    return light_set_desired(light=light, on=on)


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
