"""Deliver lights' desired states to a device over the best live path: WebSocket, LAN push, or its next poll."""

import logging
from collections.abc import Mapping
from typing import Any

from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.infra import lan_push, realtime
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import device_lights, device_welcome, light_wire_entry

logger = logging.getLogger(__name__)

PATH_WEBSOCKET = "websocket"
PATH_LAN = "lan"
PATH_POLL = "poll"


def deliver_desired(
    *,
    device: Device,
    lights: list[Light],
    fresh: bool = False,
    transition_ms: int | None = None,
    hold: bool = False,
    stop: bool = False,
    cause: str | None = None,
    flash_ms: int | None = None,
) -> str:
    """Send these lights' desired states to their device; return the path taken.

    fresh: `device` was read in the transaction that just committed (its paths are current),
    so it is not read again. transition_ms: the device fades to the states (a device that only
    knows on/off gets `on` alone). hold, stop, cause: the adaptive fields (lights capability 3);
    flash_ms: blink the lights, then show the states again (lights capability 4, lights.services.light_flash).
    """
    if fresh:
        current: Mapping[str, Any] | None = {
            "channel_name": device.channel_name,
            "lan_url": device.lan_url,
            "lan_token": device.lan_token,
            "lights_capability": device.lights_capability,
        }
    else:
        current = (
            Device.objects.filter(pk=device.pk)
            .values("channel_name", "lan_url", "lan_token", "lights_capability")
            .first()
        )
    if current is None:
        return PATH_POLL
    capability = current["lights_capability"]
    entries = [
        light_wire_entry(
            light,
            capability=capability,
            transition_ms=transition_ms,
            hold=hold,
            stop=stop,
            cause=cause,
            flash_ms=flash_ms,
        )
        for light in lights
    ]
    return deliver_desired_many(targets=[(device.device_id, current, entries)])[device.device_id]


def deliver_desired_many(
    *, targets: list[tuple[str, Mapping[str, Any], list[dict[str, Any]]]]
) -> dict[str, str]:
    """deliver_desired for many devices at once, one loop crossing for every socket.

    Each target is (device_id, its paths as read in the transaction that just committed:
    channel_name, lan_url and lan_token, the wire entries of its lights); each device gets one
    state.set with all its lights. Returns each device_id's path.
    """
    paths: dict[str, str] = {}
    socket_messages: list[tuple[str, dict]] = []
    for device_id, current, entries in targets:
        paths[device_id] = PATH_POLL
        if not entries:
            continue
        if current["channel_name"]:
            socket_messages.append((device_id, protocol.build_state_set(entries)))
            paths[device_id] = PATH_WEBSOCKET
        elif current["lan_token"] and lan_push.is_pushable_url(current["lan_url"]):
            lan_push.submit(lan_url=current["lan_url"], lan_token=current["lan_token"], entries=entries)
            paths[device_id] = PATH_LAN
    realtime.send_many_to_devices(socket_messages)
    return paths


def deliver_snapshot(*, device: Device) -> None:
    """Send a connected device the full, authoritative list of its lights (after the set changed)."""
    found = Device.objects.filter(pk=device.pk).values_list("channel_name", "lights_capability").first()
    if found and found[0]:
        device.lights_capability = found[1]
        realtime.send_to_device(
            device.device_id, device_welcome(device=device, lights=device_lights(device=device))
        )
