"""The OTA device messages (ota.progress, ota.result) and the hello hook, plugged into devices.handlers."""

from typing import Any

from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import handlers as device_handlers
from lamplighter.ota import services


def handle_ota_progress(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device's update moved on: store it, show it live; no answer."""
    services.job_progress(device=device, data=message["data"])
    return []


def handle_ota_result(device: Device, message: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device's update ended (confirmed, failed, rolled back): record it, move the rollout on."""
    services.job_result(device=device, data=message["data"])
    return []


def on_hello(device: Device, data: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """After a device.hello: offer again an update the device lost, start queued ones."""
    return services.device_connected(device=device, data=data, connection=connection)


def register() -> None:
    """Add the OTA handlers (called once, from OtaConfig.ready)."""
    device_handlers.HANDLERS[protocol.OTA_PROGRESS] = handle_ota_progress
    device_handlers.HANDLERS[protocol.OTA_RESULT] = handle_ota_result
    if on_hello not in device_handlers.HELLO_HOOKS:
        device_handlers.HELLO_HOOKS.append(on_hello)
