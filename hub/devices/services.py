"""Writes for devices: registration, credentials, what a device says, and presence."""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from devices.models import Device
from devices.selectors import device_payload
from firmware import protocol
from homes.models import Home
from lamplighter import realtime
from lamplighter.secrets import new_secret, secret_hash, secret_matches


def device_register(*, home: Home, name: str) -> tuple[Device, str]:
    """Register a device in a home; return it with its secret, shown once and stored only as a hash."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError("a device needs a name of 1 to 64 characters")
    if Device.objects.filter(home=home, name=name).exists():
        raise ValidationError(f"a device named {name!r} already exists in this home")
    secret = new_secret()
    device = Device.objects.create(
        home=home, name=name, device_id="dev-" + secrets.token_hex(6), secret_hash=secret_hash(secret)
    )
    return device, secret


def device_rename(*, device: Device, name: str) -> Device:
    """Rename a device."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError("a device needs a name of 1 to 64 characters")
    if Device.objects.filter(home=device.home, name=name).exclude(pk=device.pk).exists():
        raise ValidationError(f"a device named {name!r} already exists in this home")
    device.name = name
    device.save(update_fields=["name"])
    return device


def device_rotate_secret(*, device: Device) -> str:
    """Give the device a new secret; the old one stops working at once, live sockets included."""
    secret = new_secret()
    device.secret_hash = secret_hash(secret)
    device.save(update_fields=["secret_hash"])
    device_id = device.device_id
    transaction.on_commit(lambda: realtime.close_device_socket(device_id))
    return secret


def device_delete(*, device: Device) -> None:
    """Delete a device; its lights stay, without a device."""
    device_id = device.device_id
    device.delete()
    transaction.on_commit(lambda: realtime.close_device_socket(device_id))


def device_authenticate(*, device_id: str, secret: str) -> Device | None:
    """The device with this id and secret, or None."""
    if not device_id or len(device_id) > 64 or not secret or len(secret) > 256:
        return None
    device = Device.objects.filter(device_id=device_id).first()
    if device is None or not secret_matches(secret, device.secret_hash):
        return None
    return device


def device_hello(*, device: Device, data: dict[str, Any], connection: str) -> dict[str, Any]:
    """Take in a device.hello: who the device is now and its lights; answer with hub.welcome."""
    from lights.selectors import device_desired_entries
    from lights.services import light_reports_apply

    lan_url = data.get("lan_url") or ""
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(
            protocol_version=data["protocol"],
            firmware_version=data["firmware_version"],
            board=data["board"],
            mode=data.get("mode", protocol.MODE_LOCAL),
            lan_url=lan_url if _is_http_url(lan_url) else "",
            lan_token=data.get("lan_token") or "",
        )
        light_reports_apply(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    return protocol.build_hub_welcome(
        device.device_id, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL, device_desired_entries(device=device)
    )


def device_report(*, device: Device, data: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """Take in a state.report; answer with a state.set for lights the device must change."""
    from lights.selectors import light_wire_entry
    from lights.services import light_reports_apply

    with transaction.atomic():
        resend, unknown = light_reports_apply(device=device, entries=data["lights"])
        device_seen(device=device, connection=connection)
    replies = []
    if resend:
        replies.append(protocol.build_state_set([light_wire_entry(light) for light in resend]))
    if unknown:
        replies.append(
            protocol.build_message_reject(
                protocol.ERROR_UNKNOWN_LIGHT, "not driven by this device: " + ", ".join(unknown)[:200]
            )
        )
    return replies


def device_heartbeat(*, device: Device, data: dict[str, Any], connection: str) -> dict[str, Any]:
    """Take in a heartbeat.ping with the device's health figures; answer heartbeat.pong."""
    fields = {key: data[key] for key in ("uptime", "free_memory", "rssi") if key in data}
    if fields:
        Device.objects.filter(pk=device.pk).update(**fields)
    device_seen(device=device, connection=connection)
    return protocol.build_heartbeat_pong()


def device_seen(*, device: Device, connection: str, channel_name: str | None = None) -> None:
    """Record contact; a device that was offline (or changed connection) is announced."""
    before = Device.objects.filter(pk=device.pk).values("online", "connection").first()
    updates: dict[str, Any] = {"last_seen": timezone.now(), "online": True, "connection": connection}
    if channel_name is not None:
        updates["channel_name"] = channel_name
    Device.objects.filter(pk=device.pk).update(**updates)
    if before is not None and (not before["online"] or before["connection"] != connection):
        _publish_presence(device.pk)


def device_disconnected(*, device: Device, channel_name: str) -> None:
    """A device's WebSocket closed: offline, unless a newer socket already took over."""
    changed = Device.objects.filter(pk=device.pk, channel_name=channel_name).update(
        online=False, connection=Device.Connection.NONE, channel_name=""
    )
    if changed:
        _publish_presence(device.pk)


def devices_mark_missing_offline(*, now: Any = None) -> int:
    """Mark offline every device not heard from within the heartbeat budget; return how many."""
    now = now or timezone.now()
    budget = settings.LAMPLIGHTER_HEARTBEAT_INTERVAL * settings.LAMPLIGHTER_MISSED_HEARTBEATS
    cutoff = now - timedelta(seconds=budget)
    marked = 0
    for pk in Device.objects.filter(online=True, last_seen__lt=cutoff).values_list("pk", flat=True):
        # Conditional per row, so two hub workers never both announce the same device.
        if Device.objects.filter(pk=pk, online=True, last_seen__lt=cutoff).update(
            online=False, connection=Device.Connection.NONE, channel_name=""
        ):
            marked += 1
            _publish_presence(pk)
    return marked


def devices_forget_connections() -> None:
    """At start of a single-process hub: no WebSocket from before can still be open."""
    Device.objects.exclude(channel_name="").update(channel_name="", connection=Device.Connection.NONE)


def _publish_presence(device_pk: int) -> None:
    device = Device.objects.filter(pk=device_pk).first()
    if device is None:
        return
    event = realtime.device_presence_event(device_payload(device))
    home_id = device.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))


def _is_http_url(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) <= 256
