"""The adaptive curve: a home's brightness and white for an instant, from the sun (pure, no database).

The sun position p of an instant t comes from its solar day, which runs from one solar midnight
M0 to the next, M1, with solar noon N between and, on most days, a sunrise R and a sunset S:

- between sunrise and sunset, p = 1 - ((t - N) / (N - edge))², edge = R before noon, S after it;
- outside them, p = -(1 - ((t - M) / (M - edge))²), M the nearer midnight, edge the sunrise
  after it or the sunset before it.

So p is 1 at noon, 0 at sunrise and sunset, -1 at midnight.

Polar rule (where astral finds no sunrise or sunset). Each half of the solar day (M0..N, N..M1)
is taken on its own. A half without its sunrise (morning) or sunset (afternoon) takes, in its
place, the bound of the half that keeps the curve going: where the sun stays up (its elevation
at noon is above the horizon), the day curve runs to solar midnight, p = 1 - ((t - N)/(N - M))²,
reaching 0 there; where it stays down, the night curve runs to solar noon,
p = -(1 - ((t - M)/(M - N))²), reaching 0 there. Polar day thus gives 0 <= p <= 1 (full
brightness, the white cooling to noon and warming to midnight), polar night -1 <= p <= 0 (the
warmest white, brightness rising to max at noon). p is finite everywhere and continuous across
the halves and the days (each half's end is 0 or ±1 on both sides), and smooth within a half.

Brightness and colour temperature from p (min/max: the profile's):

- p > 0: brightness = max_brightness, kelvin = min_kelvin + (max_kelvin - min_kelvin) × p;
- p <= 0: brightness = max_brightness + (max_brightness - min_brightness) × p, kelvin = min_kelvin.

With a sleep setting (a brightness and a kelvin), the night (p <= 0) goes to those instead: the
brightness to sleep_brightness (in place of min_brightness), the kelvin from min_kelvin at the
sunset/sunrise to sleep_kelvin at midnight, kelvin = min_kelvin + (min_kelvin - sleep_kelvin) × p.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from astral import Observer
from astral.sun import SUN_APPARENT_RADIUS, elevation, midnight, noon, refraction_at_zenith

# Sunrise and sunset as astral's sunrise()/sunset() count them: the sun's geometric centre this
# far below the horizon (its radius and the refraction there).
HORIZON_DEGREES = -(SUN_APPARENT_RADIUS + refraction_at_zenith(90 + SUN_APPARENT_RADIUS))


@dataclass(frozen=True)
class Profile:
    """What a home's adaptive curve runs between (brightness 0-255, kelvin); sleep is optional."""

    min_brightness: int = 51
    max_brightness: int = 255
    min_kelvin: int = 2000
    max_kelvin: int = 5500
    sleep_brightness: int | None = None
    sleep_kelvin: int | None = None


@dataclass(frozen=True)
class CurvePoint:
    """The curve at one instant: brightness (0-255), colour temperature (kelvin), sun position p."""

    brightness: float
    kelvin: float
    sun_position: float


@dataclass(frozen=True)
class SolarDay:
    """The sun's events of the solar day holding an instant (UTC); None where there is none."""

    midnight: datetime
    sunrise: datetime | None
    noon: datetime
    sunset: datetime | None
    next_midnight: datetime
    sun_up_at_noon: bool


def curve_at(t: datetime, *, latitude: float, longitude: float, profile: Profile) -> CurvePoint:
    """The adaptive curve at instant t (timezone-aware) at these coordinates, for this profile.

    See the module docstring for the formulas and the polar rule (finite, continuous values where
    the sun does not rise or set).
    """
    p = sun_position(t, latitude=latitude, longitude=longitude)
    return point_of(p, profile)


def point_of(p: float, profile: Profile) -> CurvePoint:
    """Brightness and kelvin for the sun position p (see the module docstring)."""
    low_brightness = profile.min_brightness if profile.sleep_brightness is None else profile.sleep_brightness
    if p > 0:
        brightness = float(profile.max_brightness)
        kelvin = profile.min_kelvin + (profile.max_kelvin - profile.min_kelvin) * p
    else:
        brightness = profile.max_brightness + (profile.max_brightness - low_brightness) * p
        kelvin = float(profile.min_kelvin)
        if profile.sleep_kelvin is not None:
            kelvin = profile.min_kelvin + (profile.min_kelvin - profile.sleep_kelvin) * p
    return CurvePoint(brightness=brightness, kelvin=kelvin, sun_position=p)


def sun_position(t: datetime, *, latitude: float, longitude: float) -> float:
    """The sun position p in [-1, 1] of instant t: 1 at solar noon, 0 at sunrise/sunset, -1 at midnight."""
    t = t.astimezone(UTC)
    for piece in _pieces(round(latitude, 6), round(longitude, 6), t.date()):
        if piece.start <= t <= piece.end:
            return piece.value(t)
    raise AssertionError("the pieces cover five days around t")  # pragma: no cover


@dataclass(frozen=True)
class _Piece:
    """One parabola of the curve over [start, end]: the day's (p = 1 at centre, 0 at edge) or the
    night's (p = -1 at centre, 0 at edge)."""

    start: datetime
    end: datetime
    centre: datetime
    edge: datetime
    day: bool

    def value(self, t: datetime) -> float:
        shape = 1 - ((t - self.centre) / (self.centre - self.edge)) ** 2
        return shape if self.day else -shape


def solar_day(t: datetime, *, latitude: float, longitude: float) -> SolarDay:
    """The solar day (midnight to midnight) holding instant t, with its sunrise, noon and sunset."""
    t = t.astimezone(UTC)
    days = _solar_days(round(latitude, 6), round(longitude, 6), t.date())
    for day in days:
        if day.midnight <= t < day.next_midnight:
            return day
    raise AssertionError("the days cover t")  # pragma: no cover


@lru_cache(maxsize=256)
def _pieces(latitude: float, longitude: float, around: date) -> list[_Piece]:
    """The curve's parabolas from the first to the last noon of the solar days around `around`,
    in order: each night between two noons, with the day's halves around it."""
    days = _solar_days(latitude, longitude, around)
    pieces: list[_Piece] = []
    for before, after in zip(days, days[1:], strict=False):
        start, end, middle = before.noon, after.noon, after.midnight
        fall, rise = before.sunset, after.sunrise
        if fall is not None and rise is not None:
            # An ordinary night. Its midnight is astral's; should the sun's lowest point and
            # astral's midnight disagree by more than a very short night lasts, use its middle.
            if not fall < middle < rise:
                middle = fall + (rise - fall) / 2
            pieces += [
                _Piece(start, fall, start, fall, True),
                _Piece(fall, middle, middle, fall, False),
                _Piece(middle, rise, middle, rise, False),
                _Piece(rise, end, end, rise, True),
            ]
        elif fall is not None:  # the polar night begins: p = 0 at the next noon
            pieces += [
                _Piece(start, fall, start, fall, True),
                _Piece(fall, middle, middle, fall, False),
                _Piece(middle, end, middle, end, False),
            ]
        elif rise is not None:  # the polar night ends: p = 0 at the noon before
            pieces += [
                _Piece(start, middle, middle, start, False),
                _Piece(middle, rise, middle, rise, False),
                _Piece(rise, end, end, rise, True),
            ]
        elif after.sun_up_at_noon:  # polar day: the day curves meet at midnight, p = 0 there
            pieces += [_Piece(start, middle, start, middle, True), _Piece(middle, end, end, middle, True)]
        else:  # polar night: the night curves meet at noon, p = 0 there
            pieces += [_Piece(start, middle, middle, start, False), _Piece(middle, end, middle, end, False)]
    return pieces


@lru_cache(maxsize=256)
def _solar_days(latitude: float, longitude: float, around: date) -> list[SolarDay]:
    """The solar days whose noons fall on the UTC days around-3..around+3, each with its sunrise
    and sunset where the sun crosses the horizon.

    The sun's elevation falls from noon to midnight and rises from midnight to noon, so each half
    holds at most one crossing of the horizon, found by bisection: where the sun stays above (or
    below) the horizon through a half, that half has no sunrise (or sunset). The horizon is
    astral's (HORIZON_DEGREES): the times agree with astral.sun.sunrise/sunset within seconds
    where those have an answer.
    """
    observer = Observer(latitude=latitude, longitude=longitude)
    dates = [around + timedelta(days=offset) for offset in range(-3, 4)]
    noons = sorted({noon(observer, d) for d in dates})
    midnights = sorted(
        {midnight(observer, d) for d in dates} | {midnight(observer, dates[-1] + timedelta(days=1))}
    )

    def height(at: datetime) -> float:
        return float(elevation(observer, at, with_refraction=False)) - HORIZON_DEGREES

    days = []
    for middle in noons:
        before = max(m for m in midnights if m < middle)
        after = min(m for m in midnights if m > middle)
        up = height(middle) > 0
        rise = _crossing(height, before, middle) if up and height(before) < 0 else None
        fall = _crossing(height, middle, after) if up and height(after) < 0 else None
        days.append(SolarDay(before, rise, middle, fall, after, up))
    return days


def _crossing(height: Callable[[datetime], float], low: datetime, high: datetime) -> datetime:
    """The instant between low and high (where height has opposite signs) at which it is 0, to 1 s."""
    low_below = height(low) < 0
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if (height(middle) < 0) == low_below:
            low = middle
        else:
            high = middle
    return low + (high - low) / 2
