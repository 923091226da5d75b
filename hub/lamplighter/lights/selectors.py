"""Reads for lights, scoped to the user's homes, and their wire/JSON shapes."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.homes.selectors import home_list
from lamplighter.lights import state as light_state
from lamplighter.lights.models import Light


def light_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Light]:
    """Lights of the user's homes, optionally of one home."""
    lights = Light.objects.filter(room__home__in=home_list(user=user)).select_related("room", "device")
    if home_id is not None:
        lights = lights.filter(room__home_id=home_id)
    return lights.order_by("room__home_id", "room__name", "name")


def light_get(*, user: User | AnonymousUser, light_id: int) -> Light:
    """One light of the user's homes; Light.DoesNotExist otherwise."""
    return light_list(user=user).get(pk=light_id)


def light_payload(light: Light) -> dict[str, Any]:
    """A light as the API and the dashboard events show it."""
    device = light.device
    return light_payload_of(light, device=(device.device_id, device.name) if device else None)


def light_payload_of(light: Light, *, device: tuple[str, str] | None) -> dict[str, Any]:
    """light_payload for a light whose room is attached and whose device is given by its
    (device_id, name), or None: a fan-out reads those two columns with each light instead of
    building 1,000 Device instances (lights.services.lights_set_desired_states)."""
    room = light.room
    return {
        "id": light.pk,
        "name": light.name,
        "room": room.name,
        "room_id": light.room_id,
        "home_id": room.home_id,
        "device": device[0] if device else None,
        "device_name": device[1] if device else None,
        "kind": light.kind,
        "min_kelvin": light.min_kelvin,
        "max_kelvin": light.max_kelvin,
        "desired_on": light.desired_on,
        "desired_brightness": light.desired_brightness,
        "desired_color_temp_kelvin": light.desired_color_temp_kelvin,
        "desired_rgb": light_state.unpack_rgb(light.desired_rgb),
        "desired_version": light.desired_version,
        "desired_at": light.desired_at.isoformat() if light.desired_at else None,
        "reported_on": light.reported_on,
        "reported_brightness": light.reported_brightness,
        "reported_color_temp_kelvin": light.reported_color_temp_kelvin,
        "reported_rgb": light_state.unpack_rgb(light.reported_rgb),
        "reported_version": light.reported_version,
        "reported_at": light.reported_at.isoformat() if light.reported_at else None,
        "reported_cause": light.reported_cause or None,
        "pending": light.pending,
        "device_kind": light.device_kind or None,
        **_adaptive_fields(light),
    }


def _adaptive_fields(light: Light) -> dict[str, Any]:
    """Adaptive white (lamplighter.adaptive): whether the light follows the curve, and what a
    manual change paused ("following", "paused" or null; ["brightness", "color"] or part of it)."""
    paused = [
        part
        for part, is_paused in (
            ("brightness", light.adaptive_paused_brightness),
            ("color", light.adaptive_paused_color),
        )
        if is_paused
    ]
    state = ("paused" if paused else "following") if light.adaptive else None
    return {"adaptive": light.adaptive, "adaptive_state": state, "adaptive_paused": paused}


def light_wire_entry(
    light: Light,
    *,
    capability: int = 1,
    transition_ms: int | None = None,
    welcome: bool = False,
    hold: bool = False,
    stop: bool = False,
    cause: str | None = None,
    flash_ms: int | None = None,
) -> dict[str, Any]:
    """A light's desired state as the device protocol carries it to a device with this lights
    capability: `on` only, without transition or kind, for an on/off-only device (capability 1).

    welcome: the entry goes in a hub.welcome, which tells the device the light's kind and range.
    hold, stop, cause (docs/protocol.md, "Adaptive lighting") go to a device of capability 3
    only: an older one gets the ordinary state (its desired `on`, the target's fields). A held
    desired state (desired_hold) always goes out with hold. flash_ms (a flash, "Flash") goes to a
    device of capability 4 only.
    """
    if capability < light_state.RICH_LIGHTS:
        return protocol.light_entry(
            light.room.name, light.name, {"on": light.desired_on}, light.desired_version
        )
    state = light_state.desired_state(light)
    kelvin = light_state.kelvin_range(light)
    return protocol.light_entry(
        light.room.name,
        light.name,
        state,
        light.desired_version,
        transition_ms=transition_ms,
        kind=light.kind if welcome else None,
        kelvin=kelvin if welcome else None,
        flash_ms=flash_ms if protocol.flash_capable(capability) else None,
        **(
            {"hold": hold or light.desired_hold, "stop": stop, "cause": cause}
            if protocol.adaptive_capable(capability)
            else {}
        ),
    )


def device_lights(*, device: Device) -> QuerySet[Light]:
    """The lights a device drives."""
    return Light.objects.filter(device=device).select_related("room", "device").order_by("room__name", "name")


def device_welcome(*, device: Device, lights: Iterable[Light]) -> dict[str, Any]:
    """The hub.welcome for a device: its lights' desired states (as its lights capability takes
    them, kind and range included), the heartbeat interval and the hub's capabilities.

    The one builder of the message: the socket's device.hello, the poll and the resync after the
    set of a device's lights changed all answer with it.
    """
    capability = device.lights_capability
    return protocol.build_hub_welcome(  # type: ignore[no-any-return]
        device.device_id,
        settings.LAMPLIGHTER_HEARTBEAT_INTERVAL,
        [light_wire_entry(light, capability=capability, welcome=True) for light in lights],
        protocol.capabilities(),
    )
