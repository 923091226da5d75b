"""What the gateway does with a device's messages: its hello and its state reports, applied to
the device registry and its lights, and the answers the device gets."""

from typing import Any

from django.db import transaction

from lamplighter.devices.models import Device
from lamplighter.devices.services import device_seen
from lamplighter.firmware import protocol
from lamplighter.infra import lan_push, rows
from lamplighter.lights.selectors import device_welcome, light_wire_entry
from lamplighter.lights.services import (
    device_lights_reconcile,
    light_reports_apply,
    lights_reports_apply_many,
)


def device_hello(*, device: Device, data: dict[str, Any], connection: str) -> dict[str, Any]:
    """Take in a device.hello: who the device is now and its lights; answer with hub.welcome."""
    lan_url = data.get("lan_url") or ""
    facts = {
        "protocol_version": data["protocol"],
        "lights_capability": protocol.lights_capability(data),
        "firmware_version": data["firmware_version"],
        "board": data["board"],
        "mode": data.get("mode", protocol.MODE_LOCAL),
        "lan_url": lan_url if lan_push.is_pushable_url(lan_url) else "",
        "lan_token": data.get("lan_token") or "",
    }
    # Thousands of devices reconnect at once after a hub restart: each costs as few queries as
    # can be (no write when it says what it said before; its lights read once, not twice).
    # No savepoint of its own: in a dbbatch batch the call has one already, and each SQL
    # statement of the database thread waits to take the GIL back from the busy event loop.
    with transaction.atomic(savepoint=False):
        if any(getattr(device, name) != value for name, value in facts.items()):
            rows.update(Device, device.pk, facts)
            for name, value in facts.items():
                setattr(device, name, value)
        lights, _, _ = device_lights_reconcile(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    return device_welcome(device=device, lights=lights)


def device_report(*, device: Device, data: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """Take in a state.report; answer with a state.set for lights the device must change."""
    with transaction.atomic(savepoint=False):
        resend, unknown = light_reports_apply(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    return _report_replies(resend, unknown, device.lights_capability)


def device_reports_many(*, reports: list[tuple[Device, dict[str, Any], str]]) -> list[list[dict[str, Any]]]:
    """device_report for many devices at once (each: device, data, connection), in one
    transaction: when 1,000 devices ack a fan-out together, their reports are written together."""
    with transaction.atomic(savepoint=False):
        results = lights_reports_apply_many(reports=[(device, data["lights"]) for device, data, _ in reports])
        for device, _, connection in reports:
            device_seen(device=device, connection=connection)
    return [
        _report_replies(resend, unknown, device.lights_capability)
        for (resend, unknown), (device, _, _) in zip(results, reports, strict=True)
    ]


def _report_replies(resend: list[Any], unknown: list[str], capability: int) -> list[dict[str, Any]]:
    replies = []
    if resend:
        replies.append(
            protocol.build_state_set([light_wire_entry(light, capability=capability) for light in resend])
        )
    if unknown:
        replies.append(
            protocol.build_message_reject(
                protocol.ERROR_UNKNOWN_LIGHT, "not driven by this device: " + ", ".join(unknown)[:200]
            )
        )
    return replies
