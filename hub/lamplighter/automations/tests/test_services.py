"""Scenes and the scheduler's core, driven by an injected clock (no sleeping)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from factories import HomeFactory, LightFactory, RoomFactory
from lamplighter.automations.models import Schedule, ScheduleRun
from lamplighter.automations.services import (
    ScheduleSpec,
    scene_apply,
    scene_create,
    schedule_create,
    schedules_run_due,
)

pytestmark = pytest.mark.django_db

# A Monday; Paris is UTC+2 in June, so 07:00 local is 05:00 UTC.
MONDAY_0700_PARIS = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)


@pytest.fixture
def home():  # type: ignore[no-untyped-def]
    return HomeFactory(timezone="Europe/Paris", latitude=48.8566, longitude=2.3522)


def light_in(home, name: str = "Lamp", room: str = "Hall"):  # type: ignore[no-untyped-def]
    room_obj = home.rooms.filter(name=room).first() or RoomFactory(home=home, name=room)
    return LightFactory(room=room_obj, name=name)


def at_seven(home, target: str, target_id: int, **extra: object) -> Schedule:  # type: ignore[no-untyped-def]
    spec = ScheduleSpec(
        name=extra.pop("name", "Morning"), target=target, target_id=target_id, time_of_day=time(7, 0)
    )
    for key, value in extra.items():
        setattr(spec, key, value)
    return schedule_create(home=home, spec=spec, now=MONDAY_0700_PARIS - timedelta(days=1))


def test_a_light_turns_on_at_its_time_and_only_once(home) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    at_seven(home, "light", light.pk)
    assert schedules_run_due(now=MONDAY_0700_PARIS - timedelta(seconds=1)) == []
    [run] = schedules_run_due(now=MONDAY_0700_PARIS + timedelta(seconds=5))
    assert run.due_at == MONDAY_0700_PARIS and run.outcome == ScheduleRun.Outcome.FIRED
    assert schedules_run_due(now=MONDAY_0700_PARIS + timedelta(seconds=15)) == []
    light.refresh_from_db()
    assert (light.desired_on, light.desired_version) == (True, 2)


def test_a_missed_event_is_caught_up_within_the_window(home, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LAMPLIGHTER_SCHEDULE_CATCH_UP = 15 * 60
    light = light_in(home)
    at_seven(home, "light", light.pk)
    # The hub was down from 06:55 to 07:14 local: the first tick after the restart fires it.
    [run] = schedules_run_due(now=MONDAY_0700_PARIS + timedelta(minutes=14))
    assert run.due_at == MONDAY_0700_PARIS
    light.refresh_from_db()
    assert light.desired_on is True


def test_a_missed_event_older_than_the_window_is_skipped(home, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LAMPLIGHTER_SCHEDULE_CATCH_UP = 15 * 60
    light = light_in(home)
    at_seven(home, "light", light.pk)
    assert schedules_run_due(now=MONDAY_0700_PARIS + timedelta(minutes=16)) == []
    light.refresh_from_db()
    assert light.desired_on is False and light.desired_version == 1
    # The next day fires as usual.
    assert len(schedules_run_due(now=MONDAY_0700_PARIS + timedelta(days=1, seconds=1))) == 1


def test_an_event_due_before_the_schedule_existed_does_not_fire(home) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    spec = ScheduleSpec(name="Late", target="light", target_id=light.pk, time_of_day=time(7, 0))
    schedule_create(home=home, spec=spec, now=MONDAY_0700_PARIS + timedelta(minutes=1))
    assert schedules_run_due(now=MONDAY_0700_PARIS + timedelta(minutes=2)) == []


def test_weekdays_are_respected(home) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    at_seven(home, "light", light.pk, weekdays=["tue"])
    assert schedules_run_due(now=MONDAY_0700_PARIS + timedelta(seconds=1)) == []
    assert len(schedules_run_due(now=MONDAY_0700_PARIS + timedelta(days=1, seconds=1))) == 1


def test_spring_forward_fires_at_0300_once(home) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    spec = ScheduleSpec(name="Night", target="light", target_id=light.pk, time_of_day=time(2, 30))
    schedule_create(home=home, spec=spec, now=datetime(2025, 3, 29, 12, 0, tzinfo=UTC))
    jump = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)  # 03:00 CEST, when 02:00 CET jumps
    assert schedules_run_due(now=jump - timedelta(seconds=1)) == []
    [run] = schedules_run_due(now=jump + timedelta(seconds=3))
    assert run.due_at == jump
    assert schedules_run_due(now=jump + timedelta(hours=1)) == []


def test_fall_back_fires_once_although_0230_shows_twice(home) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    spec = ScheduleSpec(name="Night", target="light", target_id=light.pk, time_of_day=time(2, 30))
    schedule_create(home=home, spec=spec, now=datetime(2025, 10, 25, 12, 0, tzinfo=UTC))
    fired = []
    tick = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)
    while tick < datetime(2025, 10, 26, 3, 0, tzinfo=UTC):  # every 10 s through both 02:30s
        fired += schedules_run_due(now=tick)
        tick += timedelta(seconds=10)
    assert [run.due_at for run in fired] == [datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]


def test_room_and_scene_targets(home) -> None:  # type: ignore[no-untyped-def]
    hall_a, hall_b = light_in(home, "A"), light_in(home, "B")
    porch = light_in(home, "Porch", room="Porch")
    scene = scene_create(home=home, name="Evening", lights=[(hall_a.pk, False), (porch.pk, True)])
    at_seven(home, "room", hall_a.room_id, name="Hall on")
    at_seven(home, "scene", scene.pk, name="Evening at seven", time_of_day=time(7, 1))
    schedules_run_due(now=MONDAY_0700_PARIS + timedelta(minutes=2))
    for light in (hall_a, hall_b, porch):
        light.refresh_from_db()
    # The room went on at 07:00, then the scene (07:01) turned A off and the porch on: order kept.
    assert (hall_a.desired_on, hall_b.desired_on, porch.desired_on) == (False, True, True)


def test_scene_apply_goes_through_the_desired_state_path(home) -> None:  # type: ignore[no-untyped-def]
    a, b = light_in(home, "A"), light_in(home, "B")
    scene = scene_create(home=home, name="Both", lights=[(a.pk, True), (b.pk, False)])
    lights = scene_apply(scene=scene)
    assert {(light["id"], light["desired_on"], light["desired_version"]) for light in lights} == {
        (a.pk, True, 2),
        (b.pk, False, 2),
    }


def test_a_scene_gives_each_light_its_own_state_when_other_scenes_hold_it_too(home) -> None:  # type: ignore[no-untyped-def]
    # Each light is in both scenes, with opposite states: applying one must not read the other's.
    a, b = light_in(home, "A"), light_in(home, "B")
    evening = scene_create(home=home, name="Evening", lights=[(a.pk, False), (b.pk, True)])
    scene_create(home=home, name="Morning", lights=[(a.pk, True), (b.pk, False)])
    lights = scene_apply(scene=evening)
    assert {(light["id"], light["desired_on"]) for light in lights} == {(a.pk, False), (b.pk, True)}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.desired_on, a.desired_version, b.desired_on, b.desired_version) == (False, 2, True, 2)


def test_scene_refuses_lights_of_another_home(home) -> None:  # type: ignore[no-untyped-def]
    elsewhere = LightFactory()
    with pytest.raises(ValidationError, match="no such light"):
        scene_create(home=home, name="Bad", lights=[(elsewhere.pk, True)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_of_day": None}, "needs a time"),
        ({"weekdays": []}, "at least one weekday"),
        ({"weekdays": ["funday"]}, "unknown weekday"),
        ({"trigger": "noon"}, "trigger must be"),
        ({"target": "garage"}, "target must be"),
        ({"trigger": "sunset", "offset_minutes": 9999}, "offset_minutes"),
    ],
)
def test_schedule_validation(home, changes: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    light = light_in(home)
    spec = ScheduleSpec(name="X", target="light", target_id=light.pk, time_of_day=time(7, 0))
    for key, value in changes.items():
        setattr(spec, key, value)
    with pytest.raises(ValidationError, match=message):
        schedule_create(home=home, spec=spec)


def test_sun_schedules_need_the_home_location() -> None:
    home = HomeFactory(timezone="Europe/Paris")
    light = light_in(home)
    spec = ScheduleSpec(name="Dusk", target="light", target_id=light.pk, trigger="sunset")
    with pytest.raises(ValidationError, match="latitude and longitude"):
        schedule_create(home=home, spec=spec)


def test_a_failing_schedule_is_recorded_and_others_still_fire(home, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lamplighter.automations import services

    first, second = light_in(home, "A"), light_in(home, "B")
    at_seven(home, "light", first.pk, name="Breaks")
    at_seven(home, "light", second.pk, name="Works", time_of_day=time(7, 1))
    real = services.lights_set_desired

    def flaky(*, lights, **state):  # type: ignore[no-untyped-def]
        if lights.filter(pk=first.pk).exists():
            raise RuntimeError("device exploded")
        return real(lights=lights, **state)

    monkeypatch.setattr(services, "lights_set_desired", flaky)
    runs = schedules_run_due(now=MONDAY_0700_PARIS + timedelta(minutes=2))
    assert [(run.schedule.name, run.outcome) for run in runs] == [("Breaks", "failed"), ("Works", "fired")]
    assert "device exploded" in runs[0].detail
