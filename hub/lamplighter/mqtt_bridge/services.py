"""Writes for the MQTT bridge: the leader lease, and commands arriving from Home Assistant."""

import json
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_command_apply, light_flash
from lamplighter.lights.state import LightStateError, light_command
from lamplighter.mqtt_bridge.holders import holder_is_gone
from lamplighter.mqtt_bridge.models import BridgeLease

logger = logging.getLogger(__name__)

LEASE_NAME = "mqtt-bridge"
# Channel-layer group of the running bridge, and the message asking it to re-check everything.


def bridge_lease_acquire(*, holder: str, seconds: int, now: datetime | None = None) -> bool:
    """Take or renew the bridge lease for `holder`; False while another worker holds it unexpired
    and still runs (a holder whose process is gone from this machine is taken over at once)."""
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
    current = BridgeLease.objects.filter(name=LEASE_NAME).values_list("holder", flat=True).first()
    if current is not None and holder_is_gone(current):
        # A crashed worker of this machine (kill -9, OOM): its lease would block for up to
        # `seconds`. Conditional on that holder, so of several workers that saw it only one wins.
        if BridgeLease.objects.filter(name=LEASE_NAME, holder=current).update(
            holder=holder, expires_at=expires_at
        ):
            logger.info("MQTT bridge lease taken over from %s: its process is gone", current)
            return True
        return False
    try:
        with transaction.atomic():
            BridgeLease.objects.create(name=LEASE_NAME, holder=holder, expires_at=expires_at)
    except IntegrityError:
        return False  # someone else holds it (or created it a moment ago)
    return True


def bridge_lease_release(*, holder: str) -> None:
    """Give the lease up at once (clean shutdown), so another worker can take over without waiting."""
    BridgeLease.objects.filter(name=LEASE_NAME, holder=holder).delete()


def parse_light_command(
    payload: bytes, *, mireds: bool = False
) -> tuple[dict[str, Any], int | None, int | None]:
    """(the partial state, transition_ms, flash_ms) a Home Assistant light command asks for (JSON
    schema, or plain ON/OFF); ValueError if it asks for nothing this hub understands.

    JSON schema fields: state ON/OFF, brightness (0-255), color_temp (kelvin, or mireds when
    `mireds`: MQTT_COLOR_TEMP_UNIT), color {r, g, b}, transition (seconds), flash (seconds:
    Home Assistant's flash_time_short or flash_time_long; longer than the protocol's longest
    flash is cut to it, 0 is no flash).
    """
    text = payload.decode("utf-8", errors="strict").strip()
    if text.upper() in ("ON", "OFF"):
        return {"on": text.upper() == "ON"}, None, None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    flash_ms = None
    if "flash" in data:
        flash_ms = min(max(_milliseconds(data["flash"], "flash"), 0), protocol.MAX_FLASH_MS) or None
    state: dict[str, Any] = {}
    if "state" in data:
        if str(data["state"]).upper() not in ("ON", "OFF"):
            raise ValueError('state must be "ON" or "OFF"')
        state["on"] = str(data["state"]).upper() == "ON"
    if "brightness" in data:
        state["brightness"] = data["brightness"]
    if "color_temp" in data:
        state["color_temp_kelvin"] = mireds_to_kelvin(data["color_temp"]) if mireds else data["color_temp"]
    if "color" in data:
        color = data["color"]
        if not isinstance(color, dict) or not all(key in color for key in "rgb"):
            raise ValueError("color must be {r, g, b}")
        state["rgb"] = [color["r"], color["g"], color["b"]]
    if not state and flash_ms is None:
        raise ValueError('expected {"state": "ON"|"OFF", ...}')
    if state.get("on") is False:  # Home Assistant sends OFF alone; a level with it would light up
        state = {"on": False}
    transition = data.get("transition")
    return state, None if transition is None else _milliseconds(transition, "transition"), flash_ms


def _milliseconds(seconds: Any, name: str) -> int:
    """A command's duration in seconds as whole milliseconds; ValueError if it is not a number."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds * 1000)  # 1e308 s is not a number of milliseconds
    ):
        raise ValueError(f"{name} must be a number of seconds")
    return round(seconds * 1000)


def mireds_to_kelvin(value: Any) -> Any:
    """Kelvin for a colour temperature in mireds (rounded to the nearest whole kelvin the mired
    stands for, e.g. 333 -> 3000); anything but a positive number is passed on for the light's
    validation to refuse."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        return value
    # One mired spans several kelvin: of those it stands for, prefer the roundest (3000, not 3003).
    low, high = 1_000_000 / (value + 0.5), 1_000_000 / max(value - 0.5, 0.5)
    for step in (100, 50, 10, 5):
        candidate = math.ceil(low / step) * step
        if candidate <= high:
            return candidate
    return round(1_000_000 / value)


def _fit_to_range(state: dict[str, Any], light_id: int) -> dict[str, Any] | None:
    """The state with a colour temperature outside the light's range brought to the nearest end of
    it, as Home Assistant's own lights do (what the device then runs is what HA shows); None when
    there is no such light. The range is read only for a state that has a temperature."""
    kelvin = state.get("color_temp_kelvin")
    if isinstance(kelvin, bool) or not isinstance(kelvin, (int, float)) or not math.isfinite(kelvin):
        return state
    kelvin_range = Light.objects.filter(pk=light_id).values_list("min_kelvin", "max_kelvin").first()
    if kelvin_range is None:
        return None
    low, high = kelvin_range
    return {**state, "color_temp_kelvin": min(max(round(kelvin), low), high)}


def bridge_light_command(*, light_id: int, payload: bytes, mireds: bool = False) -> Light | None:
    """Apply a command from the light's command topic through the one command path, then its
    flash, if any (lights.services.light_flash: a blink that ends in the state just set).

    A colour temperature outside the light's range is brought to its nearest end. Bad payloads,
    states the light refuses and unknown lights are logged and ignored (None): the bridge never
    stops for them. A flash the device cannot run (its firmware, no live connection) is logged.
    """
    try:
        state, transition_ms, flash_ms = parse_light_command(payload, mireds=mireds)
    except (ValueError, UnicodeDecodeError) as error:
        logger.warning("MQTT command for light %s ignored: %s", light_id, error)
        return None
    fitted = _fit_to_range(state, light_id) if state else None
    if state and fitted is not None:
        try:
            command = light_command({**fitted, "transition_ms": transition_ms})
            light = light_command_apply(light_id=light_id, command=command, cause=protocol.CAUSE_HA)
        except LightStateError as error:
            logger.warning("MQTT command for light %s ignored: %s", light_id, "; ".join(error.messages))
            return None
    elif state:
        light = None  # a temperature for a light that is not there
    else:  # a flash alone
        light = Light.objects.filter(pk=light_id).first()
    if light is None:
        logger.warning("MQTT command for unknown light %s ignored", light_id)
        return None
    if flash_ms is not None:
        _flash(light, flash_ms)
    return light


def _flash(light: Light, flash_ms: int) -> None:
    """Flash the light for Home Assistant; log why not when its device cannot."""
    try:
        light_flash(light=light, flash_ms=flash_ms, cause=protocol.CAUSE_HA)
    except LightStateError as error:
        logger.warning("MQTT flash of light %s not done: %s", light.pk, "; ".join(error.messages))


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
