"""Reads for the MQTT bridge: every light and scene of the hub, flattened for discovery."""

from typing import Any

from django.db.models import Q

from lamplighter.automations.models import Scene
from lamplighter.lights.models import Light
from lamplighter.lights.state import unpack_rgb


def _light_row(light: Light) -> dict[str, Any]:
    device = light.device
    return {
        "id": light.pk,
        "name": light.name,
        "room": light.room.name,
        "home_id": light.room.home_id,
        "home_name": light.room.home.name,
        "kind": light.kind,
        "min_kelvin": light.min_kelvin,
        "max_kelvin": light.max_kelvin,
        "reported_on": light.reported_on,
        "reported_brightness": light.reported_brightness,
        "reported_color_temp_kelvin": light.reported_color_temp_kelvin,
        "reported_rgb": unpack_rgb(light.reported_rgb),
        "device_id": device.device_id if device else None,
        "device_name": device.name if device else None,
        "device_board": device.board if device else "",
        "device_firmware": device.firmware_version if device else "",
        "device_online": bool(device and device.online),
    }


def bridge_lights(
    *, light_ids: list[int] | None = None, device_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every light, with what its discovery config needs; or only the given lights and the
    lights of the given devices (one query for both)."""
    lights = Light.objects.select_related("room__home", "device").order_by("pk")
    if light_ids is not None or device_ids is not None:
        lights = lights.filter(Q(pk__in=light_ids or []) | Q(device__device_id__in=device_ids or []))
    return [_light_row(light) for light in lights]


def bridge_scenes() -> list[dict[str, Any]]:
    """Every scene, with its home's name."""
    return [
        {"id": scene.pk, "name": scene.name, "home_id": scene.home_id, "home_name": scene.home.name}
        for scene in Scene.objects.select_related("home").order_by("pk")
    ]
