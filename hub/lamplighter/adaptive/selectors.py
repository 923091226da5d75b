"""Reads for adaptive white: a home's profile and place, and the curve's target for a light."""

from datetime import datetime
from typing import Any

from lamplighter.adaptive.color import kelvin_to_rgb
from lamplighter.adaptive.curve import CurvePoint, Profile
from lamplighter.adaptive.models import AdaptiveProfile
from lamplighter.adaptive.plan import Place, point
from lamplighter.firmware import protocol
from lamplighter.homes.models import Home
from lamplighter.lights.models import Light


def profile_of(*, home: Home) -> Profile:
    """The home's adaptive profile (the defaults when it has none stored)."""
    stored = AdaptiveProfile.objects.filter(home=home).first()
    if stored is None:
        return Profile()
    return Profile(
        min_brightness=stored.min_brightness,
        max_brightness=stored.max_brightness,
        min_kelvin=stored.min_kelvin,
        max_kelvin=stored.max_kelvin,
        sleep_brightness=stored.sleep_brightness,
        sleep_kelvin=stored.sleep_kelvin,
    )


def profile_payload(profile: Profile) -> dict[str, Any]:
    """A profile as the API shows it."""
    sleep = None
    if profile.sleep_brightness is not None and profile.sleep_kelvin is not None:
        sleep = {"brightness": profile.sleep_brightness, "kelvin": profile.sleep_kelvin}
    return {
        "min_brightness": profile.min_brightness,
        "max_brightness": profile.max_brightness,
        "min_kelvin": profile.min_kelvin,
        "max_kelvin": profile.max_kelvin,
        "sleep": sleep,
    }


def place_of(
    *, home: Home, profile: Profile | None = None, lights: list[Light] | None = None
) -> Place | None:
    """Where the home's curve is computed (None while the home has no coordinates); with `lights`
    (those that follow it), the bounds of their colour-temperature ranges, so that one plan of
    fades suits them all (adaptive.plan)."""
    if home.latitude is None or home.longitude is None:
        return None
    bounds: set[int] = set()
    for light in lights or []:
        if light.kind == protocol.KIND_TUNABLE_WHITE:
            bounds |= {light.min_kelvin, light.max_kelvin}
    return Place(
        home.latitude,
        home.longitude,
        profile if profile is not None else profile_of(home=home),
        tuple(sorted(bounds)),
    )


def home_curve_now(*, home: Home, at: datetime) -> CurvePoint | None:
    """The home's curve at an instant (None without coordinates)."""
    place = place_of(home=home)
    return None if place is None else point(place, at)


def state_of_point(light: Light, at_point: CurvePoint) -> dict[str, Any]:
    """The state fields the curve's point gives this light: brightness (whole, 0-255) and its
    colour, a colour temperature brought into its range or, for an RGB light, the white as rgb."""
    fields = protocol.kind_fields(light.kind)
    state: dict[str, Any] = {}
    if "brightness" in fields:
        state["brightness"] = min(max(round(at_point.brightness), 0), protocol.MAX_BRIGHTNESS)
    if "color_temp_kelvin" in fields:
        state["color_temp_kelvin"] = min(max(round(at_point.kelvin), light.min_kelvin), light.max_kelvin)
    if "rgb" in fields:
        state["rgb"] = kelvin_to_rgb(at_point.kelvin)
    return state


def light_target(*, light: Light, at: datetime) -> dict[str, Any] | None:
    """The state fields the curve gives this light at an instant (None: its home has no coordinates)."""
    at_point = home_curve_now(home=light.room.home, at=at)
    return None if at_point is None else state_of_point(light, at_point)


def rooms_adaptive(*, room_ids: list[int]) -> set[int]:
    """Of these rooms, those whose every light that dims follows the curve (and that have one)."""
    dimming = Light.objects.filter(room_id__in=room_ids).exclude(kind=protocol.KIND_ONOFF)
    with_lights = set(dimming.values_list("room_id", flat=True))
    not_following = set(dimming.filter(adaptive=False).values_list("room_id", flat=True))
    return with_lights - not_following
