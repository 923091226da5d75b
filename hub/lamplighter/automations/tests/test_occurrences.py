"""When schedules are due: daylight-saving changes, weekdays, sunrise and sunset (pure, no clock)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lamplighter.automations.models import ALL_WEEKDAYS
from lamplighter.automations.occurrences import When, due_on, next_occurrence, occurrences, sun_instant

PARIS = "Europe/Paris"


def at_0230(weekdays: int = ALL_WEEKDAYS) -> When:
    return When(trigger="time", weekdays=weekdays, time_of_day=time(2, 30), timezone=PARIS)


def test_an_ordinary_day_fires_at_the_local_time() -> None:
    # 2025-06-02 Paris is UTC+2.
    assert due_on(date(2025, 6, 2), at_0230()) == datetime(2025, 6, 2, 0, 30, tzinfo=UTC)


def test_spring_forward_fires_when_the_clock_jumps_at_0300() -> None:
    # 2025-03-30: Paris clocks go from 02:00 CET straight to 03:00 CEST (01:00 UTC); 02:30 never shows.
    due = due_on(date(2025, 3, 30), at_0230())
    assert due == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert due is not None and due.astimezone(ZoneInfo(PARIS)).strftime("%H:%M %Z") == "03:00 CEST"


def test_fall_back_fires_once_at_the_first_0230() -> None:
    # 2025-10-26: 02:30 shows twice (00:30 UTC in CEST, then 01:30 UTC in CET).
    start = datetime(2025, 10, 25, 22, 0, tzinfo=UTC)
    found = list(occurrences(at_0230(), start, start + timedelta(hours=6)))
    assert found == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]


def test_a_week_across_spring_forward_has_one_event_a_day() -> None:
    start = datetime(2025, 3, 27, tzinfo=UTC)
    found = list(occurrences(at_0230(), start, start + timedelta(days=7)))
    assert len(found) == 7
    local = [instant.astimezone(ZoneInfo(PARIS)).strftime("%d %H:%M") for instant in found]
    assert local == ["27 02:30", "28 02:30", "29 02:30", "30 03:00", "31 02:30", "01 02:30", "02 02:30"]


def test_only_chosen_weekdays() -> None:
    monday_and_friday = (1 << 0) | (1 << 4)
    when = When(trigger="time", weekdays=monday_and_friday, time_of_day=time(7, 0), timezone=PARIS)
    start = datetime(2025, 6, 1, tzinfo=UTC)  # a Sunday
    found = list(occurrences(when, start, start + timedelta(days=14)))
    assert [instant.astimezone(ZoneInfo(PARIS)).strftime("%a %d") for instant in found] == [
        "Mon 02",
        "Fri 06",
        "Mon 09",
        "Fri 13",
    ]


def test_sunrise_and_sunset_in_paris_at_midsummer() -> None:
    # Published figures for Paris on 2025-06-21: sunrise 05:46, sunset 21:58 (CEST).
    zone = ZoneInfo(PARIS)
    sunrise = sun_instant(date(2025, 6, 21), "sunrise", 48.8566, 2.3522, zone)
    sunset = sun_instant(date(2025, 6, 21), "sunset", 48.8566, 2.3522, zone)
    assert sunrise is not None and sunset is not None
    expected_rise = datetime(2025, 6, 21, 5, 46, tzinfo=zone)
    expected_set = datetime(2025, 6, 21, 21, 58, tzinfo=zone)
    assert abs(sunrise - expected_rise) < timedelta(minutes=2)
    assert abs(sunset - expected_set) < timedelta(minutes=2)


def test_sunset_with_an_offset() -> None:
    when = When(
        trigger="sunset",
        weekdays=ALL_WEEKDAYS,
        offset_minutes=-30,
        timezone=PARIS,
        latitude=48.8566,
        longitude=2.3522,
    )
    plain = sun_instant(date(2025, 6, 21), "sunset", 48.8566, 2.3522, ZoneInfo(PARIS))
    assert plain is not None
    assert due_on(date(2025, 6, 21), when) == plain - timedelta(minutes=30)


def test_no_sunrise_in_the_polar_night_means_no_event() -> None:
    tromso = When(
        trigger="sunrise", weekdays=ALL_WEEKDAYS, timezone="Europe/Oslo", latitude=69.65, longitude=18.96
    )
    assert due_on(date(2025, 12, 21), tromso) is None
    assert next_occurrence(tromso, datetime(2025, 12, 15, tzinfo=UTC)) is None


def test_sun_schedule_without_a_location_never_fires() -> None:
    when = When(trigger="sunrise", weekdays=ALL_WEEKDAYS, timezone=PARIS)
    assert due_on(date(2025, 6, 21), when) is None
