"""Live events: channel-layer group names and the messages pushed to dashboards and devices.

Every browser event envelope is built here, so the dashboard's JavaScript has one source.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from lamplighter.infra import hub_loop, metrics
from lamplighter.infra.channel_layer import LazyInMemoryChannelLayer

# Browser events (server -> dashboard WebSocket).
LIGHT_STATE = "light.state"
# A browser asks for a light's state on its dashboard socket, and the hub's answer to it.
LIGHT_SET = "light.set"
LIGHT_SET_RESULT = "light.set.result"
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
    publish_many_to_home(home_id, [event])


# Browser events per channel-layer message. A channel holds 100 messages (the layers' default
# capacity) and a full one drops what comes next: a fan-out's 1,000 light events, one message
# each, overflowed every dashboard. Batched, they are 10 messages.
HOME_EVENTS_PER_MESSAGE = 100


def publish_many_to_home(home_id: int, events: list[dict[str, Any]]) -> None:
    """Send browser events, in order, to every dashboard watching the home (one loop crossing)."""
    group = home_group(home_id)
    group_send_many(
        [
            (group, {"type": HOME_EVENT, "events": events[start : start + HOME_EVENTS_PER_MESSAGE]})
            for start in range(0, len(events), HOME_EVENTS_PER_MESSAGE)
        ]
    )


def send_to_device(device_id: str, message: dict[str, Any]) -> None:
    """Queue a protocol message on the device's WebSocket (callable from sync code)."""
    send_many_to_devices([(device_id, message)])


def send_many_to_devices(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Queue protocol messages on devices' WebSockets, in order (one loop crossing for all)."""
    group_send_many(
        [
            (device_group(device_id), {"type": DEVICE_DELIVER, "message": message})
            for device_id, message in messages
        ]
    )


def close_device_socket(device_id: str) -> None:
    """Ask the device's WebSocket to close (secret rotated, or a newer connection took over)."""
    group_send_many([(device_group(device_id), {"type": DEVICE_CLOSE})])


# With the in-memory layer, sync code hands its sends to the hub's loop without waiting for
# them: async_to_sync would block the worker thread until the loop got round to it (a GIL
# switch interval of 5 ms when the loop is busy), once per event. Sends from one thread stay in
# order (call_soon_threadsafe is FIFO).
_gathering = threading.local()


@contextmanager
def sends_gathered() -> Iterator[None]:
    """Within the block, this thread's sends wait and go together when it ends, in order: one
    loop crossing, and a home's events share channel messages (up to HOME_EVENTS_PER_MESSAGE).

    A batch of database work (lamplighter.infra.dbbatch) publishes an event per call: 200 devices
    connecting in one batch were 200 crossings, 200 tasks and 200 channel messages to every
    dashboard, and as many frames. Sends are kept only by the thread that opened the block.
    """
    if getattr(_gathering, "sends", None) is not None:  # nested: the outer block sends
        yield
        return
    _gathering.sends = []
    try:
        yield
    finally:
        sends, _gathering.sends = _gathering.sends, None
        _send_now(_coalesced(sends))


def _coalesced(sends: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The same sends with each group's consecutive home events merged into fewer messages.

    Only the order within a group matters (each group is its own sockets): a group's events
    join its last message while nothing else was sent to that group in between.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    open_events: dict[str, list[dict[str, Any]]] = {}  # group -> events of its last message
    for group, message in sends:
        events = open_events.get(group)
        if message["type"] != HOME_EVENT:
            open_events.pop(group, None)
            out.append((group, message))
            continue
        for event in message["events"]:
            if events is None or len(events) >= HOME_EVENTS_PER_MESSAGE:
                events = []
                out.append((group, {"type": HOME_EVENT, "events": events}))
                open_events[group] = events
            events.append(event)
    return out


def group_send_many(sends: list[tuple[str, dict[str, Any]]]) -> None:
    """group_send each (group, message), in order, from sync code."""
    gathered = getattr(_gathering, "sends", None)
    if gathered is not None:
        gathered.extend(sends)
        return
    _send_now(sends)


def _send_now(sends: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    if isinstance(layer, LazyInMemoryChannelLayer) and hub_loop.call_soon(_send_all_nowait, layer, sends):
        return
    async_to_sync(_send_all)(layer, sends)


def _send_all_nowait(layer: LazyInMemoryChannelLayer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in sends:
        layer.group_send_nowait(group, message)


async def _send_all(layer: Any, sends: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in sends:
        try:
            await layer.group_send(group, message)
        except Exception:
            metrics.CHANNEL_LAYER_ERRORS.inc()
            raise


# Browser event: new log lines of a device (its log page shows them live).
DEVICE_LOG = "device.log"


def device_log_event(device_pk: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Browser event: lines a device just sent (each: seq, uptime, level, text, received_at)."""
    return {"type": DEVICE_LOG, "device_id": device_pk, "lines": lines}


# Integrations (the MQTT bridge, in whichever worker holds it) re-read what changed on request.
INTEGRATIONS_GROUP = "mqtt-bridge"
INTEGRATIONS_RESYNC = "bridge.resync"


def request_integrations_resync() -> None:
    """Ask the running integrations to re-publish what changed (scenes added, renamed, deleted)."""
    group_send_many([(INTEGRATIONS_GROUP, {"type": INTEGRATIONS_RESYNC})])
