"""When a schedule is due: pure time arithmetic in the home's time zone (no database, no clock).

The rule for wall-clock times, daylight-saving changes included: an event is due at the first
instant of its local day at which the home's clock shows the scheduled time or later.

- Fall back (the clock shows 02:30 twice): it fires once, at the first 02:30.
- Spring forward (02:30 never shows): it fires when the clock jumps, at 03:00 local.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from astral import Observer
from astral.sun import sunrise, sunset

TRIGGER_TIME = "time"
TRIGGER_SUNRISE = "sunrise"
TRIGGER_SUNSET = "sunset"


@dataclass(frozen=True)
class When:
    """What decides a schedule's instants: trigger, time of day or sun offset, weekdays, place."""

    trigger: str
    weekdays: int  # bit mask, Monday = bit 0
    time_of_day: time | None = None
    offset_minutes: int = 0
    timezone: str = "UTC"
    latitude: float | None = None
    longitude: float | None = None


def wall_time_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) of `day` at which the clock in `zone` shows `at` or later."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # the time exists (fold=0 is its first showing when it shows twice)
    # In a gap: fold=1 reads it with the offset after the change, landing before the jump.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def sun_instant(day: date, event: str, latitude: float, longitude: float, zone: ZoneInfo) -> datetime | None:
    """Sunrise or sunset of the local `day` at the place (UTC), or None where the sun does not rise or set."""
    observer = Observer(latitude=latitude, longitude=longitude)
    compute = sunrise if event == TRIGGER_SUNRISE else sunset
    try:
        return compute(observer, date=day, tzinfo=zone).astimezone(UTC).replace(microsecond=0)
    except ValueError:  # polar day or night: no such event that day
        return None


def due_on(day: date, when: When) -> datetime | None:
    """The schedule's instant (UTC) for one local day, or None when it has none that day."""
    if not when.weekdays & (1 << day.weekday()):
        return None
    zone = ZoneInfo(when.timezone)
    if when.trigger == TRIGGER_TIME:
        if when.time_of_day is None:
            return None
        return wall_time_instant(day, when.time_of_day, zone)
    if when.latitude is None or when.longitude is None:
        return None
    instant = sun_instant(day, when.trigger, when.latitude, when.longitude, zone)
    if instant is None:
        return None
    return instant + timedelta(minutes=when.offset_minutes)


def occurrences(when: When, start: datetime, end: datetime) -> Iterator[datetime]:
    """Instants (UTC, ascending) with start < instant <= end."""
    zone = ZoneInfo(when.timezone)
    # One day of margin each side: offsets and zones can move an instant across midnight.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        instant = due_on(day, when)
        if instant is not None and start < instant <= end:
            yield instant
        day += timedelta(days=1)


def next_occurrence(when: When, after: datetime, horizon_days: int = 8) -> datetime | None:
    """The first instant after `after`, looking a little over a week ahead (None if there is none)."""
    return next(occurrences(when, after, after + timedelta(days=horizon_days)), None)
