"""The planner over whole simulated days: commands per light, distance from the curve, a room's
fades ending together, RGB lights, and never switching a light on."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.adaptive import selectors, services
from lamplighter.adaptive.color import kelvin_to_rgb
from lamplighter.adaptive.plan import point
from lamplighter.adaptive.tests.day_simulation import DaySimulation
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create

pytestmark = pytest.mark.django_db

MAX_COMMANDS = 40
MAX_KELVIN_DISTANCE = 50
MAX_BRIGHTNESS_DISTANCE = 0.02 * protocol.MAX_BRIGHTNESS  # 2 % of full brightness

DAYS = [
    ("Berlin, spring forward", 52.52, 13.405, "Europe/Berlin", "2026-03-29"),
    ("Berlin, fall back", 52.52, 13.405, "Europe/Berlin", "2026-10-25"),
    ("Tromsø, polar day", 69.65, 18.96, "Europe/Oslo", "2026-06-21"),
    ("Tromsø, polar night", 69.65, 18.96, "Europe/Oslo", "2026-12-21"),
    ("Sydney, winter", -33.87, 151.21, "Australia/Sydney", "2026-06-21"),
]


def _room_of_lights(latitude: float, longitude: float, zone: str, *, on: bool = True) -> list[Light]:
    home = HomeFactory(owner=UserFactory(), timezone=zone, latitude=latitude, longitude=longitude)
    room = RoomFactory(home=home, name="Living")
    device = DeviceFactory(home=home, lights_capability=protocol.LIGHTS_ADAPTIVE, channel_name="test-channel")
    lights = [
        light_create(
            room=room, device=device, name="Ceiling", kind="tunable_white", min_kelvin=2000, max_kelvin=6500
        ),
        light_create(
            room=room, device=device, name="Lamp", kind="tunable_white", min_kelvin=2700, max_kelvin=5000
        ),
        light_create(room=room, device=device, name="Shelf", kind="dimmable"),
        light_create(room=room, device=device, name="Strip", kind="rgb"),
    ]
    Light.objects.filter(pk__in=[light.pk for light in lights]).update(desired_on=on, reported_on=on)
    services.room_adaptive_set(room=room, adaptive=True)
    return list(Light.objects.filter(room=room).select_related("room__home", "device").order_by("pk"))


@pytest.mark.parametrize(("place", "latitude", "longitude", "zone", "day"), DAYS, ids=[d[0] for d in DAYS])
def test_a_whole_day(
    place: str, latitude: float, longitude: float, zone: str, day: str, capsys: pytest.CaptureFixture
) -> None:
    _whole_day(place, latitude, longitude, zone, day, capsys)


def test_a_whole_day_with_a_sleep_setting(capsys: pytest.CaptureFixture) -> None:
    """The night goes below the profile's warmest white, through a light's own range bound."""
    _whole_day(
        "Berlin, sleep 10 / 1800 K",
        52.52,
        13.405,
        "Europe/Berlin",
        "2026-10-25",
        capsys,
        changes={"sleep": {"brightness": 10, "kelvin": 1800}},
    )


def _whole_day(
    place: str,
    latitude: float,
    longitude: float,
    zone: str,
    day: str,
    capsys: pytest.CaptureFixture,
    changes: dict | None = None,
) -> None:
    lights = _room_of_lights(latitude, longitude, zone)
    if changes:
        services.home_adaptive_update(home=lights[0].room.home, changes=changes)
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    end = (datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone)) + timedelta(days=1)).astimezone(UTC)
    simulation = DaySimulation(lights)
    # An hour before the day: the lights, switched to adaptive, reach the curve.
    simulation.run(start - timedelta(hours=1), end)
    report = []
    for light in lights:
        commands = simulation.commands_between(light.pk, start, end)
        brightness, kelvin = simulation.largest_distance(light, start, end)
        report.append(
            f"{light.name}: {len(commands)} commands, ≤{brightness:.2f} brightness, ≤{kelvin:.1f} K"
        )
        assert len(commands) <= MAX_COMMANDS, (light.name, len(commands))
        assert brightness <= MAX_BRIGHTNESS_DISTANCE, (light.name, brightness)
        assert kelvin <= MAX_KELVIN_DISTANCE, (light.name, kelvin)
        assert all(entry.get("hold") and entry["cause"] == protocol.CAUSE_ADAPTIVE for _, entry in commands)
    with capsys.disabled():
        print(f"\n{place} {day} ({(end - start).total_seconds() / 3600:.0f} h): " + "; ".join(report))
    # The room's fades end together: each fade of one light has the same end in every other.
    ends = {
        light.pk: sorted(
            at + timedelta(milliseconds=entry["transition_ms"])
            for at, entry in simulation.commands_between(light.pk, start, end)
        )
        for light in lights
    }
    reference = ends[lights[0].pk]
    for light in lights[1:]:
        assert len(ends[light.pk]) == len(reference)
        assert (
            max(abs((a - b).total_seconds()) for a, b in zip(ends[light.pk], reference, strict=True)) <= 1.0
        )
    # The RGB light is sent the curve's white as a colour, at each fade's end.
    place_of = selectors.place_of(home=lights[0].room.home)
    assert place_of is not None
    strip = next(light for light in lights if light.kind == "rgb")
    for at, entry in simulation.commands_between(strip.pk, start, end):
        fade_end = at + timedelta(milliseconds=entry["transition_ms"])
        assert entry["state"]["rgb"] == kelvin_to_rgb(point(place_of, fade_end).kelvin)


def test_lights_that_are_off_are_held_never_switched_on() -> None:
    lights = _room_of_lights(52.52, 13.405, "Europe/Berlin", on=False)
    simulation = DaySimulation(lights)
    start = datetime(2026, 6, 21, 6, tzinfo=UTC)
    simulation.run(start, start + timedelta(hours=3))
    for light in lights:
        commands = simulation.commands_between(light.pk, start, start + timedelta(hours=3))
        assert commands, light.name
        assert all(entry["hold"] and entry["state"]["on"] is False for _, entry in commands)
        light.refresh_from_db()
        assert light.desired_on is False


def test_profile_change_sends_new_fades() -> None:
    lights = _room_of_lights(52.52, 13.405, "Europe/Berlin")
    now = datetime(2026, 6, 21, 9, tzinfo=UTC)
    first = services.adaptive_lights_advance(now=now)
    assert sorted(first.sent) == sorted(light.pk for light in lights)
    assert services.adaptive_lights_advance(now=now + timedelta(seconds=30)).sent == []  # nothing new
    services.home_adaptive_update(home=lights[0].room.home, changes={"max_kelvin": 4500})
    again = services.adaptive_lights_advance(now=now + timedelta(seconds=40))
    assert sorted(again.sent) == sorted(light.pk for light in lights)
