"""Writes for lights: create/edit, set the desired state, and take in what devices report."""

from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices import delivery
from devices.models import Device
from firmware import protocol
from homes.models import Room
from lamplighter import realtime
from lights.models import Light
from lights.selectors import light_payload


def light_create(*, room: Room, name: str, device: Device | None = None) -> Light:
    """Add a light to a room, optionally driven by a device of the same home."""
    name = _clean_name(name)
    _check_device_home(device, room)
    if Light.objects.filter(room=room, name=name).exists():
        raise ValidationError(
            _("a light named “%(name)s” already exists in %(room)s") % {"name": name, "room": room.name}
        )
    light = Light.objects.create(room=room, name=name, device=device)
    _resync_devices(device)
    _publish(light)
    return light


def light_update(*, light: Light, name: str, room: Room, device: Device | None) -> Light:
    """Rename a light, move it to another room of its home, or give it another device."""
    name = _clean_name(name)
    if room.home_id != light.room.home_id:
        raise ValidationError(_("a light can only move to a room of its own home"))
    _check_device_home(device, room)
    if Light.objects.filter(room=room, name=name).exclude(pk=light.pk).exists():
        raise ValidationError(
            _("a light named “%(name)s” already exists in %(room)s") % {"name": name, "room": room.name}
        )
    previous_device = light.device
    light.name, light.room, light.device = name, room, device
    light.save(update_fields=["name", "room", "device"])
    _resync_devices(previous_device, device)
    _publish(light)
    return light


def light_delete(*, light: Light) -> None:
    """Delete a light."""
    device = light.device
    light.delete()
    _resync_devices(device)


def _resync_devices(*devices: Device | None) -> None:
    """The set of lights these devices drive changed: send each its full list once committed."""
    for device in {d for d in devices if d is not None}:
        transaction.on_commit(partial(delivery.deliver_snapshot, device=device))


@transaction.atomic
def light_set_desired(*, light: Light, on: bool) -> Light:
    """Store a new desired state with the next version, then deliver it once committed."""
    # of=("self",): lock the light row only; PostgreSQL refuses FOR UPDATE on the outer-joined device.
    locked = Light.objects.select_for_update(of=("self",)).select_related("room", "device").get(pk=light.pk)
    locked.desired_on = on
    locked.desired_version += 1
    locked.desired_at = timezone.now()
    locked.save(update_fields=["desired_on", "desired_version", "desired_at"])
    _publish(locked)
    if locked.device is not None:
        device = locked.device
        transaction.on_commit(lambda: delivery.deliver_desired(device=device, lights=[locked]))
    return locked


@transaction.atomic
def light_reports_apply(*, device: Device, entries: list[dict[str, Any]]) -> tuple[list[Light], list[str]]:
    """Take in lights a device reports (see protocol.classify_report).

    Returns the lights whose desired state the device must be sent again, and the names of
    reported lights this device does not drive.
    """
    lights = {
        (light.room.name, light.name): light
        for light in Light.objects.select_for_update(of=("self",))
        .select_related("room", "device")
        .filter(device=device)
    }
    now = timezone.now()
    resend: list[Light] = []
    unknown: list[str] = []
    for entry in entries:
        light = lights.get((entry["room"], entry["light"]))
        if light is None:
            unknown.append(entry["room"] + "/" + entry["light"])
            continue
        outcome = protocol.classify_report(light.desired_version, entry)
        reported_on = entry["state"]["on"]
        light.reported_on, light.reported_version, light.reported_at = reported_on, entry["version"], now
        fields = ["reported_on", "reported_version", "reported_at"]
        if outcome == protocol.REPORT_LOCAL_CHANGE:
            light.desired_on = reported_on
            light.desired_version = max(light.desired_version, entry["version"]) + 1
            light.desired_at = now
            fields += ["desired_on", "desired_version", "desired_at"]
            resend.append(light)
        elif outcome == protocol.REPORT_AHEAD:
            # The hub forgot versions (restored database): jump past the device's.
            light.desired_version = entry["version"] + 1
            light.desired_at = now
            fields += ["desired_version", "desired_at"]
            resend.append(light)
        elif outcome == protocol.REPORT_CONFLICT:
            resend.append(light)
        light.save(update_fields=fields)
        _publish(light)
    return resend, unknown


def _publish(light: Light) -> None:
    event = realtime.light_state_event(light_payload(light))
    home_id = light.room.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))


def _check_device_home(device: Device | None, room: Room) -> None:
    if device is not None and device.home_id != room.home_id:
        raise ValidationError(_("the device belongs to another home"))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > protocol.MAX_NAME_LENGTH:
        raise ValidationError(
            _("a light needs a name of 1 to %(max)d characters") % {"max": protocol.MAX_NAME_LENGTH}
        )
    return name
