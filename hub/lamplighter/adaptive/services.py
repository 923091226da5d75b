"""Writes for adaptive white: the home's profile, the switches, resuming, and the planner's fades."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lamplighter.adaptive import hooks, selectors
from lamplighter.adaptive.curve import Profile
from lamplighter.adaptive.models import AdaptiveFade, AdaptiveProfile
from lamplighter.adaptive.plan import Place, next_fade_end, point
from lamplighter.firmware import protocol
from lamplighter.homes.models import Home, Room
from lamplighter.lights.models import Light
from lamplighter.lights.state import LightStateError

PROFILE_FIELDS = ("min_brightness", "max_brightness", "min_kelvin", "max_kelvin")


class AdaptiveError(LightStateError):
    """A profile or switch adaptive white refuses (the API answers 422 naming the field)."""


def home_adaptive_update(*, home: Home, changes: dict[str, Any]) -> Profile:
    """Change a home's adaptive profile: any of min_brightness, max_brightness (0-255),
    min_kelvin, max_kelvin (1000-20000) and sleep ({"brightness", "kelvin"}, or None to remove it).

    Fields left out keep their value. AdaptiveError (nothing stored) names a wrong field. The
    planner sends every adaptive light of the home its fade again.
    """
    unknown = sorted(set(changes) - {*PROFILE_FIELDS, "sleep"})
    if unknown:
        raise AdaptiveError(_("adaptive.%(field)s: unknown field") % {"field": unknown[0]})
    current = selectors.profile_of(home=home)
    values: dict[str, Any] = {
        "min_brightness": current.min_brightness,
        "max_brightness": current.max_brightness,
        "min_kelvin": current.min_kelvin,
        "max_kelvin": current.max_kelvin,
        "sleep_brightness": current.sleep_brightness,
        "sleep_kelvin": current.sleep_kelvin,
    }
    for field in PROFILE_FIELDS:
        if field in changes:
            values[field] = _whole(changes[field], f"adaptive.{field}", *_bounds(field))
    if "sleep" in changes:
        sleep = changes["sleep"]
        if sleep is None:
            values["sleep_brightness"] = values["sleep_kelvin"] = None
        elif not isinstance(sleep, dict) or set(sleep) != {"brightness", "kelvin"}:
            raise AdaptiveError(
                _('adaptive.sleep must be {"brightness": 0-255, "kelvin": 1000-20000} or null')
            )
        else:
            values["sleep_brightness"] = _whole(
                sleep["brightness"], "adaptive.sleep.brightness", 0, protocol.MAX_BRIGHTNESS
            )
            values["sleep_kelvin"] = _whole(
                sleep["kelvin"], "adaptive.sleep.kelvin", protocol.MIN_KELVIN, protocol.MAX_KELVIN
            )
    if values["min_brightness"] > values["max_brightness"]:
        raise AdaptiveError(_("adaptive.min_brightness must not be above adaptive.max_brightness"))
    if values["min_kelvin"] > values["max_kelvin"]:
        raise AdaptiveError(_("adaptive.min_kelvin must not be above adaptive.max_kelvin"))
    with transaction.atomic():
        AdaptiveProfile.objects.update_or_create(home=home, defaults=values)
        _restart_fades(Light.objects.filter(room__home=home, adaptive=True))
    return selectors.profile_of(home=home)


def _bounds(field: str) -> tuple[int, int]:
    if field.endswith("brightness"):
        return 0, protocol.MAX_BRIGHTNESS
    return protocol.MIN_KELVIN, protocol.MAX_KELVIN


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AdaptiveError(
            _("%(name)s must be a whole number from %(low)d to %(high)d")
            % {"name": name, "low": low, "high": high}
        )
    return value


def light_adaptive_set(*, light: Light, adaptive: bool) -> Light:
    """Make a light follow its home's curve (or stop); switching it on resumes what was paused.

    AdaptiveError for an on/off light (nothing to follow) or a home without coordinates.
    """
    if adaptive:
        _check_can_follow(light)
    _lights_adaptive_set(Light.objects.filter(pk=light.pk), adaptive)
    light.refresh_from_db()
    return light


def room_adaptive_set(*, room: Room, adaptive: bool) -> list[Light]:
    """light_adaptive_set for every light of a room that can follow (dims); returns them.

    AdaptiveError when the room has none, or its home has no coordinates.
    """
    lights = Light.objects.filter(room=room).exclude(kind=protocol.KIND_ONOFF)
    if adaptive:
        if not lights.exists():
            raise AdaptiveError(_("adaptive: this room has no light that dims"))
        _check_place(room.home)
    _lights_adaptive_set(lights, adaptive)
    return list(lights.select_related("room", "device"))


def _check_can_follow(light: Light) -> None:
    if light.kind == protocol.KIND_ONOFF:
        raise AdaptiveError(_("adaptive: an on/off light cannot follow the curve (it does not dim)"))
    _check_place(light.room.home)


def _check_place(home: Home) -> None:
    if home.latitude is None or home.longitude is None:
        raise AdaptiveError(
            _("adaptive: set the home's latitude and longitude first (the curve follows the sun)")
        )


@transaction.atomic
def _lights_adaptive_set(lights: Any, adaptive: bool) -> None:
    ids = list(lights.values_list("pk", flat=True))
    Light.objects.filter(pk__in=ids).update(
        adaptive=adaptive, adaptive_paused_brightness=False, adaptive_paused_color=False
    )
    if adaptive:
        AdaptiveFade.objects.bulk_create([AdaptiveFade(light_id=pk) for pk in ids], ignore_conflicts=True)
        AdaptiveFade.objects.filter(light_id__in=ids).update(ends_at=None)
        transaction.on_commit(hooks.wake_planner)
    else:
        AdaptiveFade.objects.filter(light_id__in=ids).delete()
    _publish(ids)


def light_adaptive_resume(*, light: Light) -> Light:
    """Resume what a manual change paused on an adaptive light: it fades back to the curve."""
    with transaction.atomic():
        Light.objects.filter(pk=light.pk).update(
            adaptive_paused_brightness=False, adaptive_paused_color=False
        )
        if light.adaptive:
            _restart_fades(Light.objects.filter(pk=light.pk))
        _publish([light.pk])
    light.refresh_from_db()
    return light


def _restart_fades(lights: Any) -> None:
    AdaptiveFade.objects.filter(light__in=lights).update(ends_at=None)
    transaction.on_commit(hooks.wake_planner)


def _publish(ids: list[int]) -> None:
    """Show the lights' new adaptive fields on the dashboards (and to the MQTT bridge)."""
    from functools import partial

    from lamplighter.infra import realtime
    from lamplighter.lights.selectors import light_payload

    for light in Light.objects.filter(pk__in=ids).select_related("room", "device"):
        event = realtime.light_state_event(light_payload(light))
        transaction.on_commit(partial(realtime.publish_to_home, light.room.home_id, event))


# ---- the planner ---------------------------------------------------------------------


@dataclass(frozen=True)
class Advance:
    """What one look at the adaptive lights did: the lights sent a fade, and when to look again."""

    sent: list[int]
    next_at: datetime | None


def adaptive_lights_advance(*, now: datetime) -> Advance:
    """Send each adaptive light whose last fade has ended (or was cut short) its next fade.

    Per home, the fades end at the plan's next fade end (adaptive.plan, the same instant for every
    light of the home) and hold the curve's value there: a light that is on fades to it, one
    that is off keeps it as its held target (it comes on at the curve's white, never switched on
    by this). Only what is not paused is sent. Each light's fade is claimed with a conditional
    UPDATE first, so two workers never both send it.
    """
    sent: list[int] = []
    next_at: datetime | None = None
    homes = Home.objects.filter(
        rooms__lights__adaptive=True, latitude__isnull=False, longitude__isnull=False
    ).distinct()
    for home in homes:
        lights = list(
            Light.objects.filter(room__home=home, adaptive=True, device__isnull=False)
            .exclude(kind=protocol.KIND_ONOFF)
            .select_related("room", "device")
            .order_by("pk")
        )
        place = selectors.place_of(home=home, lights=lights)
        if place is None or not lights:
            continue
        end = next_fade_end(place, now)
        next_at = end if next_at is None else min(next_at, end)
        sent += _lights_advance(lights, place, now, end)
    return Advance(sent=sent, next_at=next_at)


def _lights_advance(lights: list[Light], place: Place, now: datetime, end: datetime) -> list[int]:
    from lamplighter.lights.services import light_set_desired

    target = point(place, end)
    transition_ms = min(int((end - now) / timedelta(milliseconds=1)), protocol.MAX_TRANSITION_MS)
    sent = []
    for light in lights:
        following = hooks.parts_of(light) - hooks.paused_of(light)
        if not following:
            continue
        fields = hooks.fields_of(following)
        state = {
            key: value for key, value in selectors.state_of_point(light, target).items() if key in fields
        }
        with transaction.atomic():
            AdaptiveFade.objects.get_or_create(light=light)
            claimed = AdaptiveFade.objects.filter(light=light).exclude(ends_at=end).update(ends_at=end)
            if not claimed:
                continue
            with hooks.planner_writes():
                light_set_desired(
                    light=light,
                    state=state,
                    transition_ms=transition_ms,
                    hold=True,
                    cause=protocol.CAUSE_ADAPTIVE,
                )
        sent.append(light.pk)
    return sent
