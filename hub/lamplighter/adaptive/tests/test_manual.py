"""Manual changes win: a change of brightness or colour from any source pauses only what it
changed; off and on again, or adaptive_resume, resumes; on/off alone pauses nothing; a scene
pauses both; adaptation never reverts a manual change."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import TestCase
from django.utils import timezone

from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.adaptive import selectors, services
from lamplighter.adaptive.models import AdaptiveFade
from lamplighter.adaptive.tests.day_simulation import DaySimulation
from lamplighter.automations.services import scene_apply, scene_create
from lamplighter.firmware import protocol
from lamplighter.lights import services as light_services
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def lights() -> tuple[Light, Light]:
    home = HomeFactory(owner=UserFactory(), timezone="Europe/Berlin", latitude=52.52, longitude=13.405)
    room = RoomFactory(home=home, name="Living")
    device = DeviceFactory(home=home, lights_capability=protocol.LIGHTS_ADAPTIVE)
    white = light_services.light_create(
        room=room, device=device, name="White", kind="tunable_white", min_kelvin=2000, max_kelvin=6500
    )
    strip = light_services.light_create(room=room, device=device, name="Strip", kind="rgb")
    for light in (white, strip):
        light_services.light_set_desired(light=light, on=True)
    services.room_adaptive_set(room=room, adaptive=True)
    return _fresh(white), _fresh(strip)


def _fresh(light: Light) -> Light:
    return Light.objects.select_related("room__home", "device").get(pk=light.pk)


def _paused(light: Light) -> tuple[str | None, list[str]]:
    shown = light_payload(_fresh(light))
    return shown["adaptive_state"], shown["adaptive_paused"]


MORNING = datetime(2026, 6, 21, 5, tzinfo=UTC)  # in Berlin the white cools all morning


def test_dimming_pauses_brightness_only_and_colour_keeps_following(lights: tuple[Light, Light]) -> None:
    white, _ = lights
    with mock.patch("lamplighter.adaptive.hooks.timezone.now", return_value=MORNING):
        light_services.light_set_desired(light=white, state={"brightness": 40})
    assert _paused(white) == ("paused", ["brightness"])
    # The colour stays on the curve (the change ended the device's fade): its value now.
    target = selectors.light_target(light=_fresh(white), at=MORNING)
    assert target is not None
    assert abs(_fresh(white).desired_color_temp_kelvin - target["color_temp_kelvin"]) <= 2  # type: ignore[operator]
    # The planner sends the colour's fade, never the brightness back.
    simulation = DaySimulation([_fresh(white), _fresh(lights[1])])
    start = MORNING
    simulation.run(start, start + timedelta(hours=3))
    commands = simulation.commands_between(white.pk, start, start + timedelta(hours=3))
    assert commands
    assert all(entry["state"]["brightness"] == 40 for _, entry in commands)
    assert len({entry["state"]["color_temp_kelvin"] for _, entry in commands}) > 1


def test_a_colour_change_pauses_colour_only(lights: tuple[Light, Light]) -> None:
    white, strip = lights
    light_services.light_set_desired(light=white, state={"color_temp_kelvin": 6000})
    light_services.light_set_desired(light=strip, state={"rgb": [255, 0, 0]})
    assert _paused(white) == ("paused", ["color"])
    assert _paused(strip) == ("paused", ["color"])
    at = datetime(2026, 6, 21, 20, tzinfo=UTC)  # evening: the brightness moves
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.adaptive_lights_advance(now=at)
    assert _fresh(white).desired_color_temp_kelvin == 6000
    assert _fresh(strip).desired_rgb == 0xFF0000


def test_on_and_off_alone_pause_nothing_and_off_then_on_resumes(lights: tuple[Light, Light]) -> None:
    white, _ = lights
    light_services.light_set_desired(light=white, on=False)
    light_services.light_set_desired(light=white, on=True)
    assert _paused(white) == ("following", [])
    light_services.light_set_desired(light=white, state={"brightness": 40, "color_temp_kelvin": 3000})
    assert _paused(white) == ("paused", ["brightness", "color"])
    light_services.light_set_desired(light=white, on=False)
    light_services.light_set_desired(light=white, on=True)
    assert _paused(white) == ("following", [])


def test_home_wide_change_and_scene_recall(lights: tuple[Light, Light]) -> None:
    white, strip = lights
    light_services.lights_set_desired(lights=Light.objects.filter(pk=white.pk), state={"brightness": 90})
    assert _paused(white) == ("paused", ["brightness"])
    scene = scene_create(home=white.room.home, name="Evening", lights=[(strip.pk, True)])
    scene_apply(scene=scene)  # only `on` in the scene: a recall is still a change of both
    assert _paused(strip) == ("paused", ["brightness", "color"])
    assert services.adaptive_lights_advance(now=timezone.now()).sent == [white.pk]  # colour only


def test_resume(lights: tuple[Light, Light]) -> None:
    white, _ = lights
    light_services.light_set_desired(light=white, state={"brightness": 40})
    services.adaptive_lights_advance(now=timezone.now())
    assert AdaptiveFade.objects.get(light=white).ends_at is not None
    services.light_adaptive_resume(light=_fresh(white))
    assert _paused(white) == ("following", [])
    assert AdaptiveFade.objects.get(light=white).ends_at is None  # sent again at the next look
    assert services.adaptive_lights_advance(now=timezone.now()).sent == [white.pk]


def _report(light: Light, state: dict, manual: list[str] | None, cause: str) -> None:
    entry = protocol.light_entry(
        light.room.name, light.name, state, light.desired_version, changed=True, cause=cause, manual=manual
    )
    light_services.light_reports_apply(device=light.device, entries=[entry])  # type: ignore[arg-type]


def test_a_change_on_the_device_pauses_what_the_person_changed(lights: tuple[Light, Light]) -> None:
    white, _ = lights
    fresh = _fresh(white)
    state = {"on": True, "brightness": 30, "color_temp_kelvin": fresh.desired_color_temp_kelvin}
    _report(fresh, state, [protocol.MANUAL_BRIGHTNESS], protocol.CAUSE_WEB)
    assert _paused(white) == ("paused", ["brightness"])
    assert _fresh(white).desired_brightness == 30
    # The button switches it off and on: resumed.
    fresh = _fresh(white)
    _report(fresh, {**state, "on": False}, None, protocol.CAUSE_BUTTON)
    fresh = _fresh(white)
    _report(fresh, {**state, "on": True}, None, protocol.CAUSE_BUTTON)
    assert _paused(white) == ("following", [])


def test_the_planner_pauses_nothing(lights: tuple[Light, Light]) -> None:
    white, strip = lights
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = services.adaptive_lights_advance(now=timezone.now()).sent
    assert sorted(sent) == sorted([white.pk, strip.pk])
    assert _paused(white) == ("following", []) and _paused(strip) == ("following", [])


def test_a_second_dim_restarts_the_colour_fade(lights: tuple[Light, Light]) -> None:
    white, _ = lights
    light_services.light_set_desired(light=white, state={"brightness": 40})
    services.adaptive_lights_advance(now=timezone.now())
    assert AdaptiveFade.objects.get(light=white).ends_at is not None
    light_services.light_set_desired(light=white, state={"brightness": 60})  # already paused
    assert AdaptiveFade.objects.get(light=white).ends_at is None  # its colour is sent a new fade
    assert services.adaptive_lights_advance(now=timezone.now()).sent == [white.pk]
