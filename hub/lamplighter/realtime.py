"""Live events: channel-layer group names and the messages pushed to dashboards and devices.

Every browser event envelope is built here, so the dashboard's JavaScript has one source.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

# Browser events (server -> dashboard WebSocket).
LIGHT_STATE = "light.state"
DEVICE_PRESENCE = "device.presence"
OTA_JOB = "ota.job"
# Channel-layer message types, mapped by Channels to consumer methods (home.event -> home_event).
HOME_EVENT = "home.event"
DEVICE_DELIVER = "device.deliver"
DEVICE_CLOSE = "device.close"


def home_group(home_id: int) -> str:
    """Group of every dashboard socket watching a home."""
    return f"home.{home_id}"


def device_group(device_id: str) -> str:
    """Group holding a device's live WebSocket."""
    return f"device.{device_id}"


def light_state_event(light_payload: dict[str, Any]) -> dict[str, Any]:
    """Browser event: a light's desired or reported state changed."""
    return {"type": LIGHT_STATE, "light": light_payload}


def device_presence_event(device_payload: dict[str, Any]) -> dict[str, Any]:
    """Browser event: a device came online, went offline or changed how it is connected."""
    return {"type": DEVICE_PRESENCE, "device": device_payload}


def ota_job_event(job_payload: dict[str, Any]) -> dict[str, Any]:
    """Browser event: a device's firmware update moved on (state, bytes received, reason)."""
    return {"type": OTA_JOB, "job": job_payload}


def publish_to_home(home_id: int, event: dict[str, Any]) -> None:
    """Send a browser event to every dashboard watching the home (callable from sync code)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(home_group(home_id), {"type": HOME_EVENT, "event": event})


def send_to_device(device_id: str, message: dict[str, Any]) -> None:
    """Queue a protocol message on the device's WebSocket (callable from sync code)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(device_group(device_id), {"type": DEVICE_DELIVER, "message": message})


def close_device_socket(device_id: str) -> None:
    """Ask the device's WebSocket to close (secret rotated, or a newer connection took over)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(device_group(device_id), {"type": DEVICE_CLOSE})


# Browser event: new log lines of a device (its log page shows them live).
DEVICE_LOG = "device.log"


def device_log_event(device_pk: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Browser event: lines a device just sent (each: seq, uptime, level, text, received_at)."""
    return {"type": DEVICE_LOG, "device_id": device_pk, "lines": lines}
