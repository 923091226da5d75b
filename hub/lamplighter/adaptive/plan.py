"""The planner's arithmetic (pure): where to put the ends of the fades that track a home's curve.

A fade is linear on the device (brightness and colour temperature move at constant speed), so the
light's output is the piecewise-linear line through the curve's values at the fades' ends. The
ends are chosen per solar day, the same for every light of the home: sunrise, noon and sunset
(where the curve bends), midnight, and the instants at which the curve crosses a bound of one
of the home's lights' colour-temperature ranges (where that light's clamped curve bends: so every
light of the home, whatever its range, can share the same ends) are always ends; between them each fade is as long as it can
be while the line stays within BRIGHTNESS_MARGIN and KELVIN_MARGIN of the curve at every minute,
and at most a fade's longest transition (the protocol's hour).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from lamplighter.adaptive.curve import CurvePoint, Profile, curve_at, solar_day
from lamplighter.firmware import protocol

# The promise is 2 % of full brightness (5.1 of 255) and 50 K, minute by minute. The plan keeps
# this much of it, leaving room for rounding the fades' ends to whole values (0.5 each) on the
# way to the device and for its own rounding of the output.
BRIGHTNESS_MARGIN = 3.5
KELVIN_MARGIN = 40.0
GRID = timedelta(minutes=1)
LONGEST_FADE = timedelta(milliseconds=protocol.MAX_TRANSITION_MS)


@dataclass(frozen=True)
class Place:
    """Where a home's curve is computed, for which profile, and the colour temperatures at which
    one of its lights' ranges clamps the curve (hashable: plans are cached)."""

    latitude: float
    longitude: float
    profile: Profile
    kelvin_bounds: tuple[int, ...] = ()


def point(place: Place, at: datetime) -> CurvePoint:
    """The home's curve at an instant."""
    return curve_at(at, latitude=place.latitude, longitude=place.longitude, profile=place.profile)


def fade_ends(place: Place, at: datetime) -> list[datetime]:
    """The ends of the planned fades of the solar day holding `at`, from its midnight (included)
    to the next (included), ascending."""
    day = solar_day(at, latitude=place.latitude, longitude=place.longitude)
    return list(_day_plan(place, day.midnight, day.next_midnight))


def next_fade_end(place: Place, now: datetime, lead: timedelta = timedelta(seconds=2)) -> datetime:
    """The first planned fade end later than now + lead (the fade the light is to be sent)."""
    for end in fade_ends(place, now):
        if end > now + lead:
            return end
    return next(end for end in fade_ends(place, now + timedelta(hours=1) + lead) if end > now + lead)


@lru_cache(maxsize=512)
def _day_plan(place: Place, start: datetime, end: datetime) -> tuple[datetime, ...]:
    day = solar_day(start + (end - start) / 2, latitude=place.latitude, longitude=place.longitude)
    knots = {t for t in (day.sunrise, day.noon, day.sunset) if t is not None and start < t < end} | {end}
    knots |= _crossings(place, start, end)
    ends = [start]
    piece_start = start
    for knot in sorted(knots):
        ends += _fit(lambda t: point(place, t), piece_start, knot)
        piece_start = knot
    return tuple(ends)


def _crossings(place: Place, start: datetime, end: datetime) -> set[datetime]:
    """The instants (to the second) at which the curve's colour temperature crosses one of the
    place's kelvin bounds."""
    profile = place.profile
    whites = [profile.min_kelvin, profile.max_kelvin] + (
        [profile.sleep_kelvin] if profile.sleep_kelvin else []
    )
    bounds = [k for k in place.kelvin_bounds if min(whites) < k < max(whites)]
    if not bounds:
        return set()
    found: set[datetime] = set()
    previous_at, previous = start, point(place, start).kelvin
    at = start
    while at < end:
        at = min(at + GRID, end)
        value = point(place, at).kelvin
        for bound in bounds:
            if (previous - bound) * (value - bound) < 0:
                low, high = previous_at, at
                while high - low > timedelta(seconds=1):
                    middle = low + (high - low) / 2
                    if (point(place, middle).kelvin - bound) * (previous - bound) > 0:
                        low = middle
                    else:
                        high = middle
                found.add(high.replace(microsecond=0))
        previous_at, previous = at, value
    return {t for t in found if start < t < end}


def _fit(curve: Callable[[datetime], CurvePoint], start: datetime, end: datetime) -> list[datetime]:
    """Greedy: from start, each fade to the furthest minute (or `end`) it can reach within the
    margins; returns the ends after start, `end` last."""
    times = [start]
    while times[-1] + GRID < end:
        times.append(times[-1] + GRID)
    times.append(end)
    values = [curve(t) for t in times]
    ends: list[datetime] = []
    i = 0
    while i < len(times) - 1:
        best = i + 1
        j = i + 2
        while j < len(times) and times[j] - times[i] <= LONGEST_FADE and _within(times, values, i, j):
            best = j
            j += 1
        ends.append(times[best])
        i = best
    return ends


def _within(times: list[datetime], values: list[CurvePoint], i: int, j: int) -> bool:
    """Whether the line from values[i] to values[j] stays within the margins at every time between."""
    span = (times[j] - times[i]).total_seconds()
    first, last = values[i], values[j]
    for k in range(i + 1, j):
        share = (times[k] - times[i]).total_seconds() / span
        if (
            abs(first.brightness + (last.brightness - first.brightness) * share - values[k].brightness)
            > BRIGHTNESS_MARGIN
        ):
            return False
        if abs(first.kelvin + (last.kelvin - first.kelvin) * share - values[k].kelvin) > KELVIN_MARGIN:
            return False
    return True
