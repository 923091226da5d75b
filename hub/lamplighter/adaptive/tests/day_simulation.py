"""A whole day of the adaptive planner on a simulated clock, against a model of the device's fades.

The hub's planner and services run for real (database, desired-state path); what leaves the hub
for a device (devices.delivery.deliver_desired, the outer boundary) is recorded instead of sent,
and each light's output is computed as the firmware runs a fade: from its output at that moment
to the target, linearly over transition_ms (firmware/light_output.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from django.test import TestCase

from lamplighter.adaptive import selectors, services
from lamplighter.adaptive.color import kelvin_to_rgb
from lamplighter.adaptive.plan import point
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_wire_entry

WAKE_LATENCY = timedelta(milliseconds=20)  # the planner task wakes a little after the instant it asked


@dataclass
class Fade:
    """A fade of one light as the device runs it."""

    sent_at: datetime
    start: dict[str, float]
    target: dict[str, float]
    duration: timedelta

    def value(self, at: datetime) -> dict[str, float]:
        share = (
            1.0 if self.duration <= timedelta(0) else min(max((at - self.sent_at) / self.duration, 0.0), 1.0)
        )
        return {key: self.start[key] + (self.target[key] - self.start[key]) * share for key in self.target}


@dataclass
class SimulatedLight:
    """A light's output over the simulated day: the fades it was sent, and its commands."""

    light_id: int
    output: dict[str, float]
    fades: list[Fade] = field(default_factory=list)
    commands: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def value(self, at: datetime) -> dict[str, float]:
        current = dict(self.output)
        for fade in self.fades:
            if fade.sent_at <= at:
                current = fade.value(at)
        return current


class DaySimulation:
    """Runs services.adaptive_lights_advance on a simulated clock and records what devices get."""

    def __init__(self, lights: list[Light], replan: timedelta = timedelta(minutes=5)) -> None:
        self.replan = replan
        self.now: datetime | None = None
        self.lights = {
            light.pk: SimulatedLight(light.pk, _numbers(light_wire_entry(light, capability=3)["state"]))
            for light in lights
        }

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record deliveries (instead of sending them) at the simulated time."""

        def deliver(
            *,
            device: Any,
            lights: list[Light],
            fresh: bool = False,
            transition_ms: int | None = None,
            **wire: Any,
        ) -> str:
            for light in lights:
                entry = light_wire_entry(
                    light, capability=protocol.LIGHTS_ADAPTIVE, transition_ms=transition_ms, **wire
                )
                self._take(light.pk, entry)
            return "recorded"

        with mock.patch("lamplighter.lights.delivery.deliver_desired", side_effect=deliver):
            yield

    def _take(self, light_id: int, entry: dict[str, Any]) -> None:
        assert self.now is not None
        simulated = self.lights[light_id]
        simulated.commands.append((self.now, entry))
        target = _numbers(entry["state"])
        simulated.fades.append(
            Fade(
                self.now,
                simulated.value(self.now),
                target,
                timedelta(milliseconds=entry.get("transition_ms") or 0),
            )
        )

    def run(self, start: datetime, end: datetime) -> None:
        """Let the planner run from start to end, waking when it asks (or every replan)."""
        self.now = start
        with self.recording():
            while self.now < end:
                # The deliveries run once the planner's transactions commit (inside a test's).
                with TestCase.captureOnCommitCallbacks(execute=True):
                    advance = services.adaptive_lights_advance(now=self.now)
                wake = self.now + self.replan
                if advance.next_at is not None:
                    wake = min(wake, advance.next_at + WAKE_LATENCY)
                self.now = wake

    def commands_between(
        self, light_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """The commands a light was sent in [start, end)."""
        return [(at, entry) for at, entry in self.lights[light_id].commands if start <= at < end]

    def largest_distance(self, light: Light, start: datetime, end: datetime) -> tuple[float, float]:
        """The largest distance of the light's output from the curve (brightness, kelvin), minute by minute."""
        place = selectors.place_of(home=light.room.home)
        assert place is not None
        worst_brightness = worst_kelvin = 0.0
        at = start
        while at < end:
            curve = point(place, at)
            output = self.lights[light.pk].value(at)
            worst_brightness = max(worst_brightness, abs(output["brightness"] - curve.brightness))
            if "color_temp_kelvin" in output:
                expected = min(max(curve.kelvin, light.min_kelvin), light.max_kelvin)
                worst_kelvin = max(worst_kelvin, abs(output["color_temp_kelvin"] - expected))
            at += timedelta(minutes=1)
        return worst_brightness, worst_kelvin


def _numbers(state: dict[str, Any]) -> dict[str, float]:
    numbers = {"brightness": float(state.get("brightness", 0))}
    if "color_temp_kelvin" in state:
        numbers["color_temp_kelvin"] = float(state["color_temp_kelvin"])
    if "rgb" in state:
        numbers.update({f"rgb{i}": float(value) for i, value in enumerate(state["rgb"])})
    return numbers


def rgb_of(kelvin: float) -> list[int]:
    """The colour an RGB light is sent for a white (the planner's conversion, for comparison)."""
    return kelvin_to_rgb(kelvin)
