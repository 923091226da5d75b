"""Deliver desired states to a device over the best live path: WebSocket, LAN push, or its next poll."""

import logging
from typing import TYPE_CHECKING

from devices import lan_push
from devices.models import Device
from firmware import protocol
from lamplighter import realtime

if TYPE_CHECKING:
    from lights.models import Light

logger = logging.getLogger(__name__)

PATH_WEBSOCKET = "websocket"
PATH_LAN = "lan"
PATH_POLL = "poll"


def deliver_desired(*, device: Device, lights: "list[Light]") -> str:
    """Send these lights' desired states to their device; return the path taken."""
    from lights.selectors import light_wire_entry

    entries = [light_wire_entry(light) for light in lights]
    current = Device.objects.filter(pk=device.pk).values("channel_name", "lan_url", "lan_token").first()
    if current is None or not entries:
        return PATH_POLL
    if current["channel_name"]:
        realtime.send_to_device(device.device_id, protocol.build_state_set(entries))
        return PATH_WEBSOCKET
    if current["lan_token"] and lan_push.is_pushable_url(current["lan_url"]):
        lan_push.submit(lan_url=current["lan_url"], lan_token=current["lan_token"], entries=entries)
        return PATH_LAN
    return PATH_POLL


def deliver_snapshot(*, device: Device) -> None:
    """Send a connected device the full, authoritative list of its lights (after the set changed)."""
    from django.conf import settings

    from lights.selectors import device_desired_entries

    channel = Device.objects.filter(pk=device.pk).values_list("channel_name", flat=True).first()
    if channel:
        welcome = protocol.build_hub_welcome(
            device.device_id, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL, device_desired_entries(device=device)
        )
        realtime.send_to_device(device.device_id, welcome)
