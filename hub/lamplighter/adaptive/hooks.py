"""What the lights' write path tells adaptive white: the lights' write watcher (lights.services
calls these, in its transaction).

A person's (or an automation's) change of a light's brightness or colour pauses that part of an
adaptive light; turning it off resumes it, so that it comes back on at the curve's white. The
planner's own writes run inside planner_writes() and pause nothing.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from lamplighter.firmware import protocol
from lamplighter.lights.models import Light

BRIGHTNESS = protocol.MANUAL_BRIGHTNESS  # "brightness"
COLOR = protocol.MANUAL_COLOR  # "color"

_PLANNER = ContextVar("adaptive_planner_writes", default=False)
_SCENE = ContextVar("adaptive_scene_recall", default=False)
_wake: Callable[[], None] | None = None


@contextmanager
def planner_writes() -> Iterator[None]:
    """The planner's fades are being stored: they are no manual change."""
    token = _PLANNER.set(True)
    try:
        yield
    finally:
        _PLANNER.reset(token)


@contextmanager
def scene_recall() -> Iterator[None]:
    """A scene is being applied: a manual change of both brightness and colour of its lights."""
    token = _SCENE.set(True)
    try:
        yield
    finally:
        _SCENE.reset(token)


def attach(wake: Callable[[], None] | None) -> None:
    """The running planner's wake-up (thread-safe), called once a change that needs a new fade commits."""
    global _wake
    _wake = wake


def wake_planner() -> None:
    """Ask the running planner (if any) to look at the adaptive lights now."""
    if _wake is not None:
        _wake()


def parts_of(light: Light) -> set[str]:
    """What of this light can follow the curve: brightness, and colour for the kinds that have it."""
    fields = protocol.kind_fields(light.kind)
    parts = set()
    if "brightness" in fields:
        parts.add(BRIGHTNESS)
    if "color_temp_kelvin" in fields or "rgb" in fields:
        parts.add(COLOR)
    return parts


def paused_of(light: Light) -> set[str]:
    """What of this light is paused."""
    return {
        part
        for part, paused in (
            (BRIGHTNESS, light.adaptive_paused_brightness),
            (COLOR, light.adaptive_paused_color),
        )
        if paused
    }


def touched_parts(fields: Iterable[str]) -> set[str]:
    """The parts a change of these state fields touches (on/off touches none)."""
    return set(protocol.manual_parts(list(fields)))


def desired_update(light: Light, update: dict[str, Any]) -> dict[str, Any]:
    """A new desired state asked by a person or an automation (not the planner) for a light locked
    in this transaction: pause what it changes, resume when it switches the light off (or on from
    off). Returns the update to store: for a light that keeps following one part, that part's
    value on the curve now is added, since the change ends the device's fade, whose end the
    stored value is."""
    if not light.adaptive or _PLANNER.get():
        return update
    parts = parts_of(light)
    touched = set(parts) if _SCENE.get() else touched_parts(update) & parts
    paused = paused_of(light)
    if update.get("on") is False or (update.get("on") is True and not light.desired_on):
        paused = set()
    paused |= touched
    # A change of brightness or colour ends the device's fade (of both): the part still followed
    # needs its next fade, even when nothing new is paused.
    _store_paused(light, paused, force=bool(touched))
    following = parts - paused
    if touched and following and update.get("on", light.desired_on):
        from lamplighter.adaptive import selectors  # the curve's value for this light now

        target = selectors.light_target(light=light, at=timezone.now())
        if target is not None:
            return {**{key: value for key, value in target.items() if key in fields_of(following)}, **update}
    return update


def lights_switched(lights: Iterable[Light], on: bool) -> None:
    """Lights locked in this transaction are switched (nothing else changes): off, or on from
    off, resumes an adaptive light; a scene that switches it on pauses it."""
    if _PLANNER.get():
        return
    for light in lights:
        if not light.adaptive:
            continue
        if on and _SCENE.get():  # a scene that switches a light on sets its state: both paused
            _store_paused(light, parts_of(light))
        elif not on or not light.desired_on:
            _store_paused(light, set())


def local_change(light: Light, reported: dict[str, Any]) -> list[str]:
    """A change made on the device (reported, before it becomes the desired state): off, or on
    from off, resumes; the planner sends the light its fade again (the device may have taken
    only the version of a held target). Returns the fields of the light it changed (saved by the
    caller)."""
    if not light.adaptive:
        return []
    fields: list[str] = []
    if not reported["on"] or not light.desired_on:
        if paused_of(light):
            light.adaptive_paused_brightness = light.adaptive_paused_color = False
            fields = ["adaptive_paused_brightness", "adaptive_paused_color"]
    _restart_fade(light)
    return fields


def device_manual_change(light: Light, parts: list[str], cause: str) -> None:
    """A person changed these parts on the device itself (a report with `manual`)."""
    if not light.adaptive:
        return
    _store_paused(light, paused_of(light) | (set(parts) & parts_of(light)), force=True)


def fields_of(parts: set[str]) -> set[str]:
    """The state fields of these parts."""
    fields = set()
    if BRIGHTNESS in parts:
        fields.add("brightness")
    if COLOR in parts:
        fields |= {"color_temp_kelvin", "rgb"}
    return fields


def _store_paused(light: Light, paused: set[str], *, force: bool = False) -> None:
    """Set what is paused (saved at once: the caller's write does not cover these columns) and,
    when it changed (or `force`), have the planner send the light its next fade."""
    brightness, color = BRIGHTNESS in paused, COLOR in paused
    if (brightness, color) == (light.adaptive_paused_brightness, light.adaptive_paused_color) and not force:
        return
    light.adaptive_paused_brightness, light.adaptive_paused_color = brightness, color
    Light.objects.filter(pk=light.pk).update(
        adaptive_paused_brightness=brightness, adaptive_paused_color=color
    )
    _restart_fade(light)


def _restart_fade(light: Light) -> None:
    from lamplighter.adaptive.models import AdaptiveFade

    AdaptiveFade.objects.filter(light_id=light.pk).update(ends_at=None)
    transaction.on_commit(wake_planner)
