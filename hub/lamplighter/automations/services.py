"""Writes for scenes and schedules, applying a scene, and firing the schedules that are due."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lamplighter.adaptive import hooks as adaptive_hooks
from lamplighter.automations.models import WEEKDAY_NAMES, Scene, SceneLight, Schedule, ScheduleRun
from lamplighter.automations.occurrences import occurrences
from lamplighter.automations.selectors import schedule_when
from lamplighter.firmware import protocol
from lamplighter.homes.models import Home, Room
from lamplighter.infra import realtime
from lamplighter.lights import state as light_state
from lamplighter.lights.models import Light
from lamplighter.lights.services import lights_set_desired, lights_set_desired_states
from lamplighter.lights.state import LightStateError

logger = logging.getLogger(__name__)

MAX_OFFSET_MINUTES = 12 * 60


# ---- scenes ----------------------------------------------------------------------------


@transaction.atomic
def scene_create(*, home: Home, name: str, lights: Sequence[tuple[int, bool | dict[str, Any]]]) -> Scene:
    """Create a scene of (light id, state) pairs; every light must belong to the home.

    A state is a bool (on/off) or a state object: on, and the brightness, color_temp_kelvin and
    rgb the light's kind has (LightStateError for others, or a value outside its range).
    """
    name = _clean_name(name, "scene")
    if Scene.objects.filter(home=home, name=name).exists():
        raise ValidationError(_("a scene named “%(name)s” already exists in this home") % {"name": name})
    scene = Scene.objects.create(home=home, name=name)
    _scene_set_lights(scene, lights)
    transaction.on_commit(realtime.request_integrations_resync)
    return scene


@transaction.atomic
def scene_update(
    *,
    scene: Scene,
    name: str | None = None,
    lights: Sequence[tuple[int, bool | dict[str, Any]]] | None = None,
) -> Scene:
    """Rename a scene and/or replace its lights (None keeps them)."""
    if name is not None:
        name = _clean_name(name, "scene")
        if Scene.objects.filter(home_id=scene.home_id, name=name).exclude(pk=scene.pk).exists():
            raise ValidationError(_("a scene named “%(name)s” already exists in this home") % {"name": name})
        scene.name = name
        scene.save(update_fields=["name"])
    if lights is not None:
        scene.entries.all().delete()
        _scene_set_lights(scene, lights)
    transaction.on_commit(realtime.request_integrations_resync)
    return scene


def scene_delete(*, scene: Scene) -> None:
    """Delete a scene (schedules that apply it go with it)."""
    scene.delete()
    transaction.on_commit(realtime.request_integrations_resync)


def scene_apply(*, scene: Scene, transition_ms: int | None = None) -> list[dict[str, Any]]:
    """Ask every light of the scene for its state, in one bulk write (one state.set per device);
    transition_ms fades every light to it.

    Returns each light as the API shows it (lights.selectors.light_payload).
    """
    states = (
        SceneLight.objects.filter(scene=scene)
        .values_list("on", "brightness", "color_temp_kelvin", "rgb")
        .distinct()
        .order_by()
    )
    groups: list[tuple[Any, bool | dict[str, Any]]] = []
    for on, brightness, kelvin, rgb in states:
        # Scene and state in one filter(), so every condition holds for the same entry: chained
        # filter() calls on a multi-valued relation may match different entries, and a light that
        # another scene turns on was then turned on by this one too.
        condition = Q(scene_entries__scene=scene, scene_entries__on=on)
        state: dict[str, Any] = {"on": on}
        for field, value in (("brightness", brightness), ("color_temp_kelvin", kelvin), ("rgb", rgb)):
            condition &= Q(
                **{f"scene_entries__{field}": value}
                if value is not None
                else {f"scene_entries__{field}__isnull": True}
            )
            if value is not None:
                state[field] = light_state.unpack_rgb(value) if field == "rgb" else value
        groups.append((Light.objects.filter(condition), state))
    with adaptive_hooks.scene_recall():  # adaptive white: a scene is a manual change of both
        return lights_set_desired_states(groups=groups, transition_ms=transition_ms)


def _scene_set_lights(scene: Scene, lights: Sequence[tuple[int, bool | dict[str, Any]]]) -> None:
    ids = [light_id for light_id, _ in lights]
    if len(set(ids)) != len(ids):
        raise ValidationError(_("a light appears more than once in the scene"))
    found = {light.pk: light for light in Light.objects.filter(pk__in=ids, room__home_id=scene.home_id)}
    missing = [str(light_id) for light_id in ids if light_id not in found]
    if missing:
        raise ValidationError(_("no such light in this home: %(ids)s") % {"ids": ", ".join(missing)})
    entries = []
    for light_id, wanted in lights:
        light = found[light_id]
        state = _scene_state(light, {"on": wanted} if isinstance(wanted, bool) else wanted)
        entries.append(
            SceneLight(
                scene=scene,
                light_id=light_id,
                on=state["on"],
                brightness=state.get("brightness"),
                color_temp_kelvin=state.get("color_temp_kelvin"),
                rgb=light_state.pack_rgb(state.get("rgb")),
            )
        )
    SceneLight.objects.bulk_create(entries)


def _scene_state(light: Light, state: dict[str, Any]) -> dict[str, Any]:
    """A scene's state for a light, checked by the command schema, then against the light's kind
    and range (LightStateError)."""
    light_state.check_update(state)
    try:
        return protocol.check_state(state, light.kind, light_state.kelvin_range(light))  # type: ignore[no-any-return]
    except protocol.ProtocolError as error:
        raise LightStateError(f"{light.name}: {error.reason}") from error


# ---- schedules -------------------------------------------------------------------------


@dataclass
class ScheduleSpec:
    """A schedule's editable fields, as the API and the admin give them."""

    name: str
    target: str
    target_id: int
    action: str = Schedule.Action.ON
    trigger: str = Schedule.Trigger.TIME
    time_of_day: time | None = None
    offset_minutes: int = 0
    weekdays: list[str] | None = None  # None: every day
    enabled: bool = True
    brightness: int | None = None  # action on: the level of the lights that dim
    color_temp_kelvin: int | None = None  # action on: the white of tunable lights
    transition_ms: int | None = None  # fade over this long (a sunrise: one command per device)


def schedule_create(*, home: Home, spec: ScheduleSpec, now: datetime | None = None) -> Schedule:
    """Create a schedule; only occurrences after now will fire."""
    schedule = Schedule(home=home)
    _schedule_fill(schedule, spec)
    schedule.armed_at = now or timezone.now()
    schedule.save()
    return schedule


def schedule_update(*, schedule: Schedule, spec: ScheduleSpec, now: datetime | None = None) -> Schedule:
    """Change a schedule; it is re-armed, so an occurrence already past does not fire because of the edit."""
    _schedule_fill(schedule, spec)
    schedule.armed_at = now or timezone.now()
    schedule.save()
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    """Delete a schedule and its run history."""
    schedule.delete()


def _schedule_fill(schedule: Schedule, spec: ScheduleSpec) -> None:
    home = schedule.home
    schedule.name = _clean_name(spec.name, "schedule")
    if Schedule.objects.filter(home=home, name=schedule.name).exclude(pk=schedule.pk).exists():
        raise ValidationError(
            _("a schedule named “%(name)s” already exists in this home") % {"name": schedule.name}
        )
    if spec.action not in Schedule.Action.values:
        raise ValidationError(
            _("action must be one of %(values)s") % {"values": ", ".join(Schedule.Action.values)}
        )
    if spec.trigger not in Schedule.Trigger.values:
        raise ValidationError(
            _("trigger must be one of %(values)s") % {"values": ", ".join(Schedule.Trigger.values)}
        )
    schedule.action, schedule.trigger, schedule.enabled = spec.action, spec.trigger, spec.enabled
    level = {
        key: value
        for key, value in (("brightness", spec.brightness), ("color_temp_kelvin", spec.color_temp_kelvin))
        if value is not None
    }
    if level:
        light_state.check_update(level)
    schedule.brightness, schedule.color_temp_kelvin = spec.brightness, spec.color_temp_kelvin
    schedule.transition_ms = light_state.check_transition(spec.transition_ms)
    schedule.light = schedule.room = schedule.scene = None
    if spec.target == Schedule.Target.LIGHT:
        schedule.light = _in_home(Light.objects.filter(room__home=home), spec.target_id, "light")
    elif spec.target == Schedule.Target.ROOM:
        schedule.room = _in_home(Room.objects.filter(home=home), spec.target_id, "room")
    elif spec.target == Schedule.Target.SCENE:
        schedule.scene = _in_home(Scene.objects.filter(home=home), spec.target_id, "scene")
    else:
        raise ValidationError(
            _("target must be one of %(values)s") % {"values": ", ".join(Schedule.Target.values)}
        )
    schedule.target = spec.target
    if spec.trigger == Schedule.Trigger.TIME:
        if spec.time_of_day is None:
            raise ValidationError(_("a time-of-day schedule needs a time (HH:MM)"))
        schedule.time_of_day = spec.time_of_day.replace(second=0, microsecond=0, tzinfo=None)
        schedule.offset_minutes = 0
    else:
        if home.latitude is None or home.longitude is None:
            raise ValidationError(_("set the home's latitude and longitude before using sunrise or sunset"))
        if not -MAX_OFFSET_MINUTES <= spec.offset_minutes <= MAX_OFFSET_MINUTES:
            raise ValidationError(
                _("offset_minutes must be between -%(max)d and %(max)d") % {"max": MAX_OFFSET_MINUTES}
            )
        schedule.time_of_day = None
        schedule.offset_minutes = spec.offset_minutes
    schedule.weekdays = weekday_mask(spec.weekdays)


def weekday_mask(names: list[str] | None) -> int:
    """Day names (mon..sun) as a bit mask; None means every day; an empty list is refused."""
    if names is None:
        names = list(WEEKDAY_NAMES)
    mask = 0
    for name in names:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAY_NAMES:
            raise ValidationError(
                _("unknown weekday “%(name)s” (use %(names)s)")
                % {"name": name, "names": ", ".join(WEEKDAY_NAMES)}
            )
        mask |= 1 << WEEKDAY_NAMES.index(key)
    if not mask:
        raise ValidationError(_("choose at least one weekday"))
    return mask


# One sentence per kind of thing, so that each language can say it its own way.
_NOT_IN_HOME = {
    "light": gettext_lazy("no such light in this home: %(id)s"),
    "room": gettext_lazy("no such room in this home: %(id)s"),
    "scene": gettext_lazy("no such scene in this home: %(id)s"),
}
_NAME_INVALID = {
    "scene": gettext_lazy("a scene needs a name of 1 to 64 characters"),
    "schedule": gettext_lazy("a schedule needs a name of 1 to 64 characters"),
}


def _in_home(queryset: Any, pk: int, what: str) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError(str(_NOT_IN_HOME[what]) % {"id": pk})
    return found


# ---- firing ------------------------------------------------------------------------------


def schedules_due(*, now: datetime) -> list[tuple[datetime, Schedule]]:
    """Occurrences of enabled schedules due by now and not older than the catch-up window, oldest first.

    Each schedule looks back to the later of (now - LAMPLIGHTER_SCHEDULE_CATCH_UP) and the moment it
    was armed; anything older was missed for good and is skipped.
    """
    window_start = now - timedelta(seconds=max(0, settings.LAMPLIGHTER_SCHEDULE_CATCH_UP))
    due: list[tuple[datetime, Schedule]] = []
    for schedule in Schedule.objects.filter(enabled=True).select_related("home"):
        start = max(window_start, schedule.armed_at)
        if start >= now:
            continue
        instants = list(occurrences(schedule_when(schedule), start, now))
        if not instants:
            continue
        done = set(
            ScheduleRun.objects.filter(schedule=schedule, due_at__in=instants).values_list(
                "due_at", flat=True
            )
        )
        due += [(instant, schedule) for instant in instants if instant not in done]
    due.sort(key=lambda pair: (pair[0], pair[1].pk))
    return due


def schedules_run_due(*, now: datetime | None = None) -> list[ScheduleRun]:
    """Fire every due occurrence that no other worker has claimed; return the runs this call made."""
    now = now or timezone.now()
    runs = []
    for due_at, schedule in schedules_due(now=now):
        run = schedule_fire(schedule=schedule, due_at=due_at, now=now)
        if run is not None:
            runs.append(run)
    return runs


@transaction.atomic
def schedule_fire(*, schedule: Schedule, due_at: datetime, now: datetime) -> ScheduleRun | None:
    """Claim one occurrence by inserting its run row, then switch its lights, in one transaction.

    The unique (schedule, due_at) key decides between workers: a second insert fails (waiting for
    the first transaction on PostgreSQL), so the occurrence fires once. None: already claimed.
    """
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(schedule=schedule, due_at=due_at, fired_at=now)
    except IntegrityError:
        return None
    try:
        with transaction.atomic():
            switched = _schedule_switch(schedule)
        logger.info("schedule %s fired for %s: %d light(s)", schedule.pk, due_at.isoformat(), switched)
    except Exception as error:  # noqa: BLE001 - recorded on the run; one bad schedule must not stop the rest
        logger.exception("schedule %s failed for %s", schedule.pk, due_at.isoformat())
        run.outcome, run.detail = ScheduleRun.Outcome.FAILED, str(error)[:200]
        run.save(update_fields=["outcome", "detail"])
    return run


def _schedule_switch(schedule: Schedule) -> int:
    on = schedule.action == Schedule.Action.ON
    transition_ms = schedule.transition_ms
    if schedule.target == Schedule.Target.SCENE and schedule.scene is not None:
        if on:
            return len(scene_apply(scene=schedule.scene, transition_ms=transition_ms))
        lights = Light.objects.filter(scene_entries__scene=schedule.scene)
    elif schedule.target == Schedule.Target.ROOM and schedule.room is not None:
        lights = Light.objects.filter(room=schedule.room)
    elif schedule.light is not None:
        lights = Light.objects.filter(pk=schedule.light.pk)
    else:
        return 0
    state: dict[str, Any] = {"on": on}
    if on and schedule.brightness is not None:
        state["brightness"] = schedule.brightness
    if on and schedule.color_temp_kelvin is not None:
        state["color_temp_kelvin"] = schedule.color_temp_kelvin
    return len(lights_set_desired(lights=lights, state=state, transition_ms=transition_ms))


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationError(_NAME_INVALID[what])
    return name
