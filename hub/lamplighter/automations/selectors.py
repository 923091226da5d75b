"""Reads for scenes and schedules, scoped to the user's homes, and their JSON shapes."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet

from lamplighter.automations.models import WEEKDAY_NAMES, Scene, SceneLight, Schedule
from lamplighter.automations.occurrences import When, next_occurrence
from lamplighter.homes.selectors import home_list
from lamplighter.lights.state import unpack_rgb


def scene_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Scene]:
    """Scenes of the user's homes, optionally of one home."""
    # Entries with their light and room joined in one query: prefetching "entries__light" would
    # look lights up by id in one SQL expression, which SQLite refuses past ~1,000 lights
    # ("Expression tree is too large": the 503 a 1,000-light scene got).
    entries = SceneLight.objects.select_related("light__room")
    scenes = Scene.objects.filter(home__in=home_list(user=user)).prefetch_related(
        Prefetch("entries", queryset=entries)
    )
    if home_id is not None:
        scenes = scenes.filter(home_id=home_id)
    return scenes.order_by("home_id", "name")


def scene_get(*, user: User | AnonymousUser, scene_id: int, with_lights: bool = True) -> Scene:
    """One scene of the user's homes; Scene.DoesNotExist otherwise (with_lights: its entries read too)."""
    scenes = scene_list(user=user) if with_lights else Scene.objects.filter(home__in=home_list(user=user))
    return scenes.select_related("home").get(pk=scene_id)


def scene_payload(scene: Scene) -> dict[str, Any]:
    """A scene as the API shows it."""
    return {
        "id": scene.pk,
        "home_id": scene.home_id,
        "name": scene.name,
        "lights": [
            {
                "light_id": entry.light_id,
                "name": entry.light.name,
                "room": entry.light.room.name,
                "on": entry.on,
                "brightness": entry.brightness,
                "color_temp_kelvin": entry.color_temp_kelvin,
                "rgb": unpack_rgb(entry.rgb),
            }
            for entry in scene.entries.all()
        ],
    }


def schedule_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Schedule]:
    """Schedules of the user's homes, optionally of one home."""
    schedules = Schedule.objects.filter(home__in=home_list(user=user)).select_related("home")
    if home_id is not None:
        schedules = schedules.filter(home_id=home_id)
    return schedules.order_by("home_id", "name")


def schedule_get(*, user: User | AnonymousUser, schedule_id: int) -> Schedule:
    """One schedule of the user's homes; Schedule.DoesNotExist otherwise."""
    return schedule_list(user=user).get(pk=schedule_id)


def schedule_when(schedule: Schedule) -> When:
    """The schedule's timing with its home's zone and place, as the occurrence arithmetic takes it."""
    home = schedule.home
    return When(
        trigger=schedule.trigger,
        weekdays=schedule.weekdays,
        time_of_day=schedule.time_of_day,
        offset_minutes=schedule.offset_minutes,
        timezone=home.timezone,
        latitude=home.latitude,
        longitude=home.longitude,
    )


def weekday_names(mask: int) -> list[str]:
    """A weekday bit mask as day names (mon..sun)."""
    return [name for bit, name in enumerate(WEEKDAY_NAMES) if mask & (1 << bit)]


def schedule_next_at(schedule: Schedule, *, now: datetime) -> datetime | None:
    """The schedule's next instant after now (None when disabled or without one in the coming week)."""
    if not schedule.enabled:
        return None
    return next_occurrence(schedule_when(schedule), max(now, schedule.armed_at))


def schedule_payload(schedule: Schedule, *, now: datetime | None = None) -> dict[str, Any]:
    """A schedule as the API shows it, with its next instant when it is enabled."""
    target_id = {"light": schedule.light_id, "room": schedule.room_id, "scene": schedule.scene_id}[
        schedule.target
    ]
    next_at = schedule_next_at(schedule, now=now) if now is not None else None
    return {
        "id": schedule.pk,
        "home_id": schedule.home_id,
        "name": schedule.name,
        "enabled": schedule.enabled,
        "target": schedule.target,
        "target_id": target_id,
        "action": schedule.action,
        "trigger": schedule.trigger,
        "time": schedule.time_of_day.strftime("%H:%M") if schedule.time_of_day else None,
        "offset_minutes": schedule.offset_minutes,
        "weekdays": weekday_names(schedule.weekdays),
        "brightness": schedule.brightness,
        "color_temp_kelvin": schedule.color_temp_kelvin,
        "transition_ms": schedule.transition_ms,
        "timezone": schedule.home.timezone,
        "next_at": next_at,
    }
