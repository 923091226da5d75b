"""What the home page shows of adaptive white: the rooms' switches, and today's curve as a small
picture (the points of an inline SVG, drawn on the server)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone as django_timezone

from lamplighter.adaptive.curve import Profile
from lamplighter.adaptive.plan import Place, point
from lamplighter.adaptive.selectors import home_curve_now, profile_of, rooms_adaptive
from lamplighter.homes.models import Home, Room
from lamplighter.lights.models import Light

WIDTH, HEIGHT = 288, 80  # one pixel per five minutes of the day
STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class Chart:
    """Polyline points of brightness and colour temperature over the home's day, and where now is."""

    brightness: str
    kelvin: str
    now_x: float
    width: int = WIDTH
    height: int = HEIGHT


def chart_of_today(
    *, latitude: float, longitude: float, timezone: str, profile: Profile, now: datetime
) -> Chart:
    """The curve from midnight to midnight of today on the home's clock (brightness 0-255 and the
    profile's kelvin range, each scaled to the height), and the x of now."""
    zone = ZoneInfo(timezone)
    start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    length = (end - start).total_seconds()  # 23 or 25 hours on the DST days
    place = Place(latitude, longitude, profile)
    low, high = min(profile.min_kelvin, profile.sleep_kelvin or profile.min_kelvin), profile.max_kelvin
    brightness, kelvin = [], []
    at = start
    while at <= end:
        x = (at - start).total_seconds() / length * WIDTH
        value = point(place, at)
        brightness.append(f"{x:.1f},{HEIGHT - value.brightness / 255 * HEIGHT:.1f}")
        share = 0.0 if high == low else (value.kelvin - low) / (high - low)
        kelvin.append(f"{x:.1f},{HEIGHT - share * HEIGHT:.1f}")
        at += STEP
    now_x = (now - start).total_seconds() / length * WIDTH
    return Chart(brightness=" ".join(brightness), kelvin=" ".join(kelvin), now_x=round(now_x, 1))


def adaptive_context(*, home: Home, rooms: list[Room], lights: list[Light]) -> dict[str, Any]:
    """What the home page shows of adaptive white: which rooms can follow and follow, and today's
    curve (with its value now) when the home has coordinates."""
    now = django_timezone.now()
    profile = profile_of(home=home)
    chart, now_point = None, None
    if home.latitude is not None and home.longitude is not None:
        chart = chart_of_today(
            latitude=home.latitude, longitude=home.longitude, timezone=home.timezone, profile=profile, now=now
        )
        now_point = home_curve_now(home=home, at=now)
    return {
        "adaptive_rooms": rooms_adaptive(room_ids=[room.pk for room in rooms]),
        "dimming_rooms": {light.room_id for light in lights if light.kind != Light.Kind.ONOFF},
        "adaptive_chart": chart,
        "adaptive_now": now_point,
    }
