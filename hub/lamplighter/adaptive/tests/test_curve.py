"""Golden tests of the adaptive curve: three places × four dates, against astral's own times.

The data below was produced once from astral's sunrise(), sunset(), noon() and midnight() (not
from the hub's curve) and checked by hand: each row gives the solar day's events (UTC; None where
astral raises ValueError, the sun not rising or setting), then instants with the sun position p,
brightness and kelvin the issue's formulas give for the default profile (51-255, 2000-5500 K).
Berlin and Tromsø on the European DST days (29 March, 25 October 2026), Sydney on its own
(5 April, 4 October 2026), and 69.65° N on 21 June (polar day) and 21 December (polar night).
"""

import math
import unittest
from datetime import UTC, datetime, timedelta

from lamplighter.adaptive.curve import Profile, curve_at, point_of, solar_day, sun_position

# (place, latitude, longitude, zone, date, midnight before, sunrise, noon, sunset, midnight after,
#  [(instant, p, brightness, kelvin), ...])
GOLDEN = [
    (
        "Berlin",
        52.52,
        13.405,
        "Europe/Berlin",
        "2026-03-29",
        "2026-03-28T23:10:59Z",
        "2026-03-29T04:48:19Z",
        "2026-03-29T11:11:15Z",
        "2026-03-29T17:35:00Z",
        "2026-03-29T23:10:41Z",
        [
            ("2026-03-29T01:30:00Z", -0.8302, 85.6, 2000),
            ("2026-03-29T02:11:03Z", -0.7151, 109.1, 2000),
            ("2026-03-29T07:00:00Z", 0.5695, 255, 3993.2),
            ("2026-03-29T08:11:11Z", 0.7789, 255, 4726.0),
            ("2026-03-29T10:00:00Z", 0.9654, 255, 5378.8),
            ("2026-03-29T13:30:00Z", 0.8693, 255, 5042.5),
            ("2026-03-29T14:11:06Z", 0.7804, 255, 4731.2),
            ("2026-03-29T18:00:00Z", -0.1434, 225.7, 2000),
            ("2026-03-29T20:10:49Z", -0.7129, 109.6, 2000),
        ],
    ),
    (
        "Berlin",
        52.52,
        13.405,
        "Europe/Berlin",
        "2026-10-25",
        "2026-10-24T22:50:22Z",
        "2026-10-25T05:49:55Z",
        "2026-10-25T10:50:28Z",
        "2026-10-25T15:50:05Z",
        "2026-10-25T22:50:16Z",
        [
            ("2026-10-25T01:50:23Z", -0.8159, 88.6, 2000),
            ("2026-10-25T02:30:00Z", -0.726, 106.9, 2000),
            ("2026-10-25T07:50:26Z", 0.6411, 255, 4244.0),
            ("2026-10-25T08:00:00Z", 0.6783, 255, 4373.9),
            ("2026-10-25T11:00:00Z", 0.999, 255, 5496.5),
            ("2026-10-25T13:50:25Z", 0.6393, 255, 4237.5),
            ("2026-10-25T14:30:00Z", 0.4632, 255, 3621.0),
            ("2026-10-25T19:00:00Z", -0.6997, 112.3, 2000),
            ("2026-10-25T19:50:19Z", -0.8166, 88.4, 2000),
        ],
    ),
    (
        "Berlin",
        52.52,
        13.405,
        "Europe/Berlin",
        "2026-06-21",
        "2026-06-20T23:08:19Z",
        "2026-06-21T02:43:28Z",
        "2026-06-21T11:08:05Z",
        "2026-06-21T19:32:54Z",
        "2026-06-21T23:08:32Z",
        [
            ("2026-06-21T01:30:00Z", -0.5664, 139.5, 2000),
            ("2026-06-21T02:08:15Z", -0.3006, 193.7, 2000),
            ("2026-06-21T07:00:00Z", 0.7583, 255, 4654.0),
            ("2026-06-21T08:08:08Z", 0.8728, 255, 5054.9),
            ("2026-06-21T10:00:00Z", 0.9818, 255, 5436.3),
            ("2026-06-21T13:30:00Z", 0.921, 255, 5223.4),
            ("2026-06-21T14:08:11Z", 0.8727, 255, 5054.5),
            ("2026-06-21T18:00:00Z", 0.3342, 255, 3169.8),
            ("2026-06-21T20:08:25Z", -0.3022, 193.4, 2000),
        ],
    ),
    (
        "Berlin",
        52.52,
        13.405,
        "Europe/Berlin",
        "2026-12-21",
        "2026-12-20T23:04:42Z",
        "2026-12-21T07:15:16Z",
        "2026-12-21T11:04:12Z",
        "2026-12-21T14:53:35Z",
        "2026-12-21T23:05:11Z",
        [
            ("2026-12-21T02:04:34Z", -0.8656, 78.4, 2000),
            ("2026-12-21T02:30:00Z", -0.8249, 86.7, 2000),
            ("2026-12-21T08:00:00Z", 0.3525, 255, 3233.9),
            ("2026-12-21T08:04:19Z", 0.3825, 255, 3338.9),
            ("2026-12-21T11:00:00Z", 0.9997, 255, 5498.8),
            ("2026-12-21T14:04:26Z", 0.3827, 255, 3339.3),
            ("2026-12-21T14:30:00Z", 0.1951, 255, 2682.8),
            ("2026-12-21T19:00:00Z", -0.7512, 101.7, 2000),
            ("2026-12-21T20:04:56Z", -0.8656, 78.4, 2000),
        ],
    ),
    (
        "Sydney",
        -33.87,
        151.21,
        "Australia/Sydney",
        "2026-04-05",
        "2026-04-04T13:57:49Z",
        "2026-04-04T20:10:11Z",
        "2026-04-05T01:57:58Z",
        "2026-04-05T07:45:12Z",
        "2026-04-05T13:57:32Z",
        [
            ("2026-04-04T16:57:51Z", -0.7663, 98.7, 2000),
            ("2026-04-04T17:30:00Z", -0.6753, 117.2, 2000),
            ("2026-04-04T22:57:55Z", 0.732, 255, 4561.9),
            ("2026-04-04T23:00:00Z", 0.7381, 255, 4583.4),
            ("2026-04-05T02:00:00Z", 1.0, 255, 5499.9),
            ("2026-04-05T04:57:51Z", 0.7316, 255, 4560.7),
            ("2026-04-05T05:30:00Z", 0.6271, 255, 4195.0),
            ("2026-04-05T10:00:00Z", -0.593, 134.0, 2000),
            ("2026-04-05T10:57:38Z", -0.7665, 98.6, 2000),
        ],
    ),
    (
        "Sydney",
        -33.87,
        151.21,
        "Australia/Sydney",
        "2026-10-04",
        "2026-10-03T13:43:52Z",
        "2026-10-03T19:28:58Z",
        "2026-10-04T01:44:02Z",
        "2026-10-04T07:59:35Z",
        "2026-10-04T13:43:34Z",
        [
            ("2026-10-03T16:30:00Z", -0.7683, 98.3, 2000),
            ("2026-10-03T16:43:54Z", -0.7279, 106.5, 2000),
            ("2026-10-03T22:00:00Z", 0.6432, 255, 4251.2),
            ("2026-10-03T22:43:59Z", 0.7695, 255, 4693.4),
            ("2026-10-04T01:00:00Z", 0.9862, 255, 5451.8),
            ("2026-10-04T04:30:00Z", 0.8047, 255, 4816.5),
            ("2026-10-04T04:43:55Z", 0.7706, 255, 4697.0),
            ("2026-10-04T09:00:00Z", -0.3204, 189.6, 2000),
            ("2026-10-04T10:43:41Z", -0.7265, 106.8, 2000),
        ],
    ),
    (
        "Sydney",
        -33.87,
        151.21,
        "Australia/Sydney",
        "2026-06-21",
        "2026-06-20T13:57:01Z",
        "2026-06-20T21:00:11Z",
        "2026-06-21T01:56:52Z",
        "2026-06-21T06:53:35Z",
        "2026-06-21T13:57:14Z",
        [
            ("2026-06-20T16:56:58Z", -0.8192, 87.9, 2000),
            ("2026-06-20T17:30:00Z", -0.7467, 102.7, 2000),
            ("2026-06-20T22:56:54Z", 0.632, 255, 4212.0),
            ("2026-06-20T23:00:00Z", 0.6446, 255, 4256.0),
            ("2026-06-21T02:00:00Z", 0.9999, 255, 5499.6),
            ("2026-06-21T04:56:57Z", 0.6317, 255, 4210.8),
            ("2026-06-21T05:30:00Z", 0.4841, 255, 3694.2),
            ("2026-06-21T10:00:00Z", -0.6864, 115.0, 2000),
            ("2026-06-21T10:57:08Z", -0.8193, 87.9, 2000),
        ],
    ),
    (
        "Sydney",
        -33.87,
        151.21,
        "Australia/Sydney",
        "2026-12-21",
        "2026-12-20T13:53:17Z",
        "2026-12-20T18:40:53Z",
        "2026-12-21T01:52:59Z",
        "2026-12-21T09:05:11Z",
        "2026-12-21T13:53:47Z",
        [
            ("2026-12-20T16:30:00Z", -0.7031, 111.6, 2000),
            ("2026-12-20T16:53:12Z", -0.6087, 130.8, 2000),
            ("2026-12-20T22:00:00Z", 0.7093, 255, 4482.5),
            ("2026-12-20T22:53:03Z", 0.8266, 255, 4893.1),
            ("2026-12-21T01:00:00Z", 0.985, 255, 5447.4),
            ("2026-12-21T04:30:00Z", 0.868, 255, 5038.1),
            ("2026-12-21T04:53:11Z", 0.8262, 255, 4891.6),
            ("2026-12-21T09:00:00Z", 0.0238, 255, 2083.5),
            ("2026-12-21T10:53:35Z", -0.6101, 130.5, 2000),
        ],
    ),
    (
        "Tromso",
        69.65,
        18.96,
        "Europe/Oslo",
        "2026-06-21",
        "2026-06-20T22:46:05Z",
        None,
        "2026-06-21T10:45:52Z",
        None,
        "2026-06-21T22:46:18Z",
        [
            ("2026-06-21T01:30:00Z", 0.4036, 255, 3412.6),
            ("2026-06-21T01:46:01Z", 0.4375, 255, 3531.2),
            ("2026-06-21T07:00:00Z", 0.9015, 255, 5155.4),
            ("2026-06-21T07:45:55Z", 0.9375, 255, 5281.2),
            ("2026-06-21T10:00:00Z", 0.9959, 255, 5485.8),
            ("2026-06-21T13:30:00Z", 0.9481, 255, 5318.3),
            ("2026-06-21T13:45:58Z", 0.9375, 255, 5281.3),
            ("2026-06-21T18:00:00Z", 0.6369, 255, 4229.1),
            ("2026-06-21T19:46:11Z", 0.4375, 255, 3531.3),
        ],
    ),
    (
        "Tromso",
        69.65,
        18.96,
        "Europe/Oslo",
        "2026-12-21",
        "2026-12-20T22:42:28Z",
        None,
        "2026-12-21T10:41:59Z",
        None,
        "2026-12-21T22:42:58Z",
        [
            ("2026-12-21T01:42:20Z", -0.9375, 63.7, 2000),
            ("2026-12-21T02:30:00Z", -0.9, 71.4, 2000),
            ("2026-12-21T07:42:06Z", -0.4375, 165.7, 2000),
            ("2026-12-21T08:00:00Z", -0.3996, 173.5, 2000),
            ("2026-12-21T11:00:00Z", -0.0494, 244.9, 2000),
            ("2026-12-21T13:42:13Z", -0.4375, 165.8, 2000),
            ("2026-12-21T14:30:00Z", -0.5325, 146.4, 2000),
            ("2026-12-21T19:00:00Z", -0.9044, 70.5, 2000),
            ("2026-12-21T19:42:43Z", -0.9375, 63.8, 2000),
        ],
    ),
    (
        "Tromso",
        69.65,
        18.96,
        "Europe/Oslo",
        "2026-03-29",
        "2026-03-28T22:48:46Z",
        "2026-03-29T04:03:15Z",
        "2026-03-29T10:49:02Z",
        "2026-03-29T17:36:58Z",
        "2026-03-29T22:48:28Z",
        [
            ("2026-03-29T01:30:00Z", -0.7372, 104.6, 2000),
            ("2026-03-29T01:48:50Z", -0.6722, 117.9, 2000),
            ("2026-03-29T07:00:00Z", 0.6814, 255, 4384.9),
            ("2026-03-29T07:48:58Z", 0.8031, 255, 4810.7),
            ("2026-03-29T10:00:00Z", 0.9854, 255, 5448.9),
            ("2026-03-29T13:30:00Z", 0.8443, 255, 4955.0),
            ("2026-03-29T13:48:53Z", 0.8056, 255, 4819.7),
            ("2026-03-29T18:00:00Z", -0.1424, 225.9, 2000),
            ("2026-03-29T19:48:36Z", -0.6666, 119.0, 2000),
        ],
    ),
    (
        "Tromso",
        69.65,
        18.96,
        "Europe/Oslo",
        "2026-10-25",
        "2026-10-24T22:28:09Z",
        "2026-10-25T06:38:33Z",
        "2026-10-25T10:28:14Z",
        "2026-10-25T14:16:21Z",
        "2026-10-25T22:28:03Z",
        [
            ("2026-10-25T01:28:10Z", -0.8653, 78.5, 2000),
            ("2026-10-25T02:30:00Z", -0.7568, 100.6, 2000),
            ("2026-10-25T07:28:12Z", 0.3856, 255, 3349.5),
            ("2026-10-25T08:00:00Z", 0.5835, 255, 4042.1),
            ("2026-10-25T11:00:00Z", 0.9806, 255, 5432.1),
            ("2026-10-25T13:28:11Z", 0.3778, 255, 3322.3),
            ("2026-10-25T14:30:00Z", -0.0547, 243.8, 2000),
            ("2026-10-25T19:00:00Z", -0.821, 87.5, 2000),
            ("2026-10-25T19:28:05Z", -0.866, 78.3, 2000),
        ],
    ),
]


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _issue_p(t: datetime, row: tuple) -> float:
    """The issue's formulas (and the polar rule) written out again from the row's astral times."""
    _, _, _, _, _, m0, rise, middle, fall, m1, _ = row
    m0, rise, middle, fall, m1 = (_at(m0), _at(rise), _at(middle), _at(fall), _at(m1))
    if rise is not None and fall is not None:
        if rise <= t <= fall:
            edge = rise if t <= middle else fall
            return 1 - ((t - middle) / (middle - edge)) ** 2
        near, edge = (m0, rise) if t < rise else (m1, fall)
        return -(1 - ((t - near) / (near - edge)) ** 2)
    near = m0 if t <= middle else m1
    if row[4].endswith("06-21"):  # polar day: the day curve runs to midnight
        return 1 - ((t - middle) / (middle - near)) ** 2
    return -(1 - ((t - near) / (near - middle)) ** 2)  # polar night: the night curve runs to noon


class GoldenCurveTest(unittest.TestCase):
    """The curve at three places on four dates each, DST days and polar day and night included."""

    def test_events_are_astrals(self) -> None:
        for row in GOLDEN:
            place, latitude, longitude, _, day, m0, rise, middle, fall, m1, _ = row
            found = solar_day(_at(middle), latitude=latitude, longitude=longitude)  # type: ignore[arg-type]
            for name, want, got in (
                ("midnight", m0, found.midnight),
                ("sunrise", rise, found.sunrise),
                ("noon", middle, found.noon),
                ("sunset", fall, found.sunset),
                ("next midnight", m1, found.next_midnight),
            ):
                with self.subTest(place=place, day=day, event=name):
                    if want is None:
                        self.assertIsNone(got)
                    else:
                        assert got is not None
                        self.assertLess(abs((got - _at(want)).total_seconds()), 5)  # type: ignore[operator]

    def test_values(self) -> None:
        profile = Profile()
        for row in GOLDEN:
            place, latitude, longitude, _, day, *_, samples = row
            for instant, p, brightness, kelvin in samples:
                with self.subTest(place=place, day=day, instant=instant):
                    point = curve_at(_at(instant), latitude=latitude, longitude=longitude, profile=profile)  # type: ignore[arg-type]
                    self.assertAlmostEqual(point.sun_position, p, delta=0.0015)
                    self.assertAlmostEqual(point.brightness, brightness, delta=0.5)
                    self.assertAlmostEqual(point.kelvin, kelvin, delta=6)

    def test_golden_rows_follow_the_formulas(self) -> None:
        """The literal p of each row is the issue's formula applied to the row's astral times."""
        for row in GOLDEN:
            for instant, p, _, _ in row[-1]:
                with self.subTest(place=row[0], day=row[4], instant=instant):
                    self.assertAlmostEqual(_issue_p(_at(instant), row), p, places=3)  # type: ignore[arg-type]

    def test_polar_day_and_night_stay_in_their_halves(self) -> None:
        start = datetime(2026, 6, 21, tzinfo=UTC)
        summer = [
            sun_position(start + timedelta(minutes=m), latitude=69.65, longitude=18.96) for m in range(1440)
        ]
        winter = [
            sun_position(start.replace(month=12) + timedelta(minutes=m), latitude=69.65, longitude=18.96)
            for m in range(1440)
        ]
        self.assertTrue(all(0 <= p <= 1 for p in summer))
        self.assertTrue(all(-1 <= p <= 0 for p in winter))


class SleepProfileTest(unittest.TestCase):
    """The sleep setting takes the night's place of min_brightness and min_kelvin."""

    def test_night_goes_to_sleep_values(self) -> None:
        profile = Profile(min_brightness=51, sleep_brightness=10, sleep_kelvin=1800)
        midnight = point_of(-1.0, profile)
        self.assertEqual((midnight.brightness, midnight.kelvin), (10, 1800))
        halfway = point_of(-0.5, profile)
        self.assertEqual((halfway.brightness, halfway.kelvin), (132.5, 1900))
        day = point_of(0.5, profile)
        self.assertEqual((day.brightness, day.kelvin), (255, 3750))


class PolarContinuityTest(unittest.TestCase):
    """Around the polar circles the curve stays finite and continuous, through the days on which
    the sun starts or stops rising."""

    def test_continuous_through_polar_transitions(self) -> None:
        for latitude, longitude, first, days in (
            (69.65, 18.96, datetime(2026, 5, 12, tzinfo=UTC), 10),
            (69.65, 18.96, datetime(2026, 7, 21, tzinfo=UTC), 8),
            (69.65, 18.96, datetime(2026, 11, 22, tzinfo=UTC), 8),
            (69.65, 18.96, datetime(2027, 1, 12, tzinfo=UTC), 8),
            (-78.0, 166.7, datetime(2026, 2, 14, tzinfo=UTC), 10),
        ):
            previous = None
            for minute in range(days * 1440):
                t = first + timedelta(minutes=minute)
                p = sun_position(t, latitude=latitude, longitude=longitude)
                self.assertTrue(math.isfinite(p) and -1 <= p <= 1, (t, p))
                if previous is not None and abs(p - previous) > 0.05:
                    # Steep (a night or a day of minutes), but continuous: no jump at 1 ms.
                    self._assert_no_jump(t - timedelta(minutes=1), t, latitude, longitude)
                previous = p

    def _assert_no_jump(self, low: datetime, high: datetime, latitude: float, longitude: float) -> None:
        at = {}
        for _ in range(40):
            if high - low <= timedelta(milliseconds=1):
                break
            middle = low + (high - low) / 2
            values = [sun_position(x, latitude=latitude, longitude=longitude) for x in (low, middle, high)]
            at = {"low": values[0], "middle": values[1], "high": values[2]}
            # Follow the half with the larger change: a jump would stay in it.
            if abs(values[1] - values[0]) >= abs(values[2] - values[1]):
                high = middle
            else:
                low = middle
        change = abs(
            sun_position(high, latitude=latitude, longitude=longitude)
            - sun_position(low, latitude=latitude, longitude=longitude)
        )
        self.assertLess(change, 0.01, (low, high, at))
