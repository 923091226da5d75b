"""Reads for devices, scoped to the user's homes."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.homes.selectors import home_list


def device_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Device]:
    """Devices of the user's homes, optionally of one home."""
    devices = Device.objects.filter(home__in=home_list(user=user))
    if home_id is not None:
        devices = devices.filter(home_id=home_id)
    return devices.order_by("home_id", "name")


def device_get(*, user: User | AnonymousUser, device_pk: int) -> Device:
    """One device of the user's homes; Device.DoesNotExist otherwise."""
    return device_list(user=user).get(pk=device_pk)


def device_payload(device: Device) -> dict[str, Any]:
    """A device as the API and the dashboard events show it (never its credentials)."""
    return {
        "id": device.pk,
        "device_id": device.device_id,
        "name": device.name,
        "home_id": device.home_id,
        "online": device.online,
        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
        "connection": device.connection or None,
        "mode": device.mode or None,
        "firmware_version": device.firmware_version or None,
        "board": device.board or None,
        "lan_url": device.lan_url or None,
        "uptime": device.uptime,
        "free_memory": device.free_memory,
        "rssi": device.rssi,
    }


# What a person fills in themselves: the hub cannot know the Wi-Fi network.
WIFI_PLACEHOLDERS = {"ssid": "<your Wi-Fi network>", "password": "<your Wi-Fi password>", "power_save": False}


def device_board_config(*, device: Device, secret: str, hub_url: str) -> dict[str, Any]:
    """A ready config.json for the device (docs/firmware.md): the hub, its credentials and lights.

    Only Wi-Fi is left to fill in; each light gets its output pin(s) from the wiring ("pin", or
    "pins" for a colour light), without which it drives nothing.
    """
    lights = []
    for light in device.lights.select_related("room").order_by("room__name", "name"):
        entry: dict[str, Any] = {"room": light.room.name, "light": light.name, "kind": light.kind}
        if light.kind == protocol.KIND_TUNABLE_WHITE:
            entry["kelvin"] = [light.min_kelvin, light.max_kelvin]
        lights.append(entry)
    return {
        "board": device.board if device.board in ("esp32", "m5core2") else "esp32",
        "name": device.name,
        "device_id": device.device_id,
        "secret": secret,
        "wifi": dict(WIFI_PLACEHOLDERS),
        "hubs": [hub_url.rstrip("/")],
        "lights": lights,
    }


def device_log_line_payload(line: Any) -> dict[str, Any]:
    """One device log line as the API and the dashboard's live events show it."""
    return {
        "id": line.pk,
        "seq": line.seq,
        "uptime": line.uptime,
        "level": line.level,
        "text": line.text,
        "received_at": line.received_at.isoformat() if line.received_at else None,
        "happened_at": (line.happened_at or line.received_at).isoformat() if line.received_at else None,
    }


def device_log_lines(*, device: Device, limit: int = 200) -> list[dict[str, Any]]:
    """The device's most recent log lines, oldest first."""
    lines = list(device.log_lines.order_by("-id")[:limit])
    return [device_log_line_payload(line) for line in reversed(lines)]
