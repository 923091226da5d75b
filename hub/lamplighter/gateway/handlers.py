"""What the hub does with each device message, whatever transport brought it (WebSocket or HTTP).

One handle_<type> function per device message type; dispatch() picks it.
"""

import logging
from collections.abc import Callable
from typing import Any

from lamplighter.devices import services
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import services as exchange
from lamplighter.infra import metrics
from lamplighter.ota import services as ota_services

logger = logging.getLogger(__name__)


def handle_device_hello(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device (re)connected: store what it says and answer with the full desired state."""
    data = message["data"]
    if data["device_id"] != device.device_id:
        return [
            protocol.build_message_reject(
                protocol.ERROR_WRONG_DEVICE, "device_id does not match the credentials", message.get("id")
            )
        ]
    welcome = exchange.device_hello(device=device, data=data, connection=connection)
    # Then an update the device lost is offered again, and queued ones start.
    return [welcome, *ota_services.device_connected(device=device, data=data, connection=connection)]


def handle_state_report(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device applied or changed lights: store the reported state, answer what it must change."""
    return exchange.device_report(device=device, data=message["data"], connection=connection)


def handle_heartbeat_ping(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device is alive: record it and its health figures."""
    return [services.device_heartbeat(device=device, data=message["data"], connection=connection)]


def handle_log_batch(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device sent recent log lines: keep the newest, show them live; no answer."""
    services.device_logs_append(device=device, data=message["data"])
    return []


def handle_ota_progress(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device's update moved on: store it, show it live; no answer."""
    ota_services.job_progress(device=device, data=message["data"])
    return []


def handle_ota_result(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device's update ended (confirmed, failed, rolled back): record it, move the rollout on."""
    ota_services.job_result(device=device, data=message["data"])
    return []


HANDLERS: dict[str, Callable[[Device, dict[str, Any], str], list[dict[str, Any]]]] = {
    protocol.DEVICE_HELLO: handle_device_hello,
    protocol.STATE_REPORT: handle_state_report,
    protocol.HEARTBEAT_PING: handle_heartbeat_ping,
    protocol.LOG_BATCH: handle_log_batch,
    protocol.OTA_PROGRESS: handle_ota_progress,
    protocol.OTA_RESULT: handle_ota_result,
}


def dispatch(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """Handle one validated device message; return the hub's replies."""
    return HANDLERS[message["type"]](device, message, connection)


def receive(device: Device, raw: str | bytes, connection: str) -> tuple[list[dict[str, Any]], bool]:
    """Parse and handle one raw message; return (replies, accepted)."""
    try:
        message = protocol.parse(raw, protocol.DEVICE_MESSAGE_TYPES)
    except protocol.ProtocolError as error:
        logger.info("device %s sent a bad message: %s", device.device_id, error.code)
        if connection == Device.Connection.HTTP:  # the WebSocket consumer counts its own frames
            metrics.device_message_received(metrics.TRANSPORT_HTTP, "invalid")
        return [protocol.build_message_reject(error.code, error.reason)], False
    if connection == Device.Connection.HTTP:
        metrics.device_message_received(metrics.TRANSPORT_HTTP, message["type"])
    return dispatch(device, message, connection), True
