"""Scenes that store brightness and colour, and schedules that set a level and start a fade."""

import json
from datetime import UTC, datetime, time, timedelta
from unittest import mock

import pytest
from django.test import Client

from conftest import bearer
from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.automations.models import ScheduleRun
from lamplighter.automations.services import ScheduleSpec, schedule_create, schedules_run_due
from lamplighter.infra import realtime
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create

pytestmark = pytest.mark.django_db

MONDAY_0700_PARIS = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)


@pytest.fixture
def setup() -> tuple:
    owner = UserFactory()
    home = HomeFactory(owner=owner, timezone="Europe/Paris")
    room = RoomFactory(home=home, name="Bedroom")
    device = DeviceFactory(home=home, channel_name="chan-1", lights_capability=2)
    lights = {
        kind: light_create(room=room, name=kind, kind=kind, device=device)
        for kind in ("onoff", "dimmable", "tunable_white", "rgb")
    }
    return owner, home, lights


def _post(client: Client, user: object, url: str, body: object) -> tuple[int, dict]:
    response = client.post(url, json.dumps(body), content_type="application/json", **bearer(user))
    return response.status_code, response.json()


def test_a_scene_stores_and_applies_the_full_state(
    client: Client, setup: tuple, django_capture_on_commit_callbacks: object
) -> None:
    owner, home, lights = setup
    entries = [
        {"light_id": lights["onoff"].pk, "on": True},
        {"light_id": lights["dimmable"].pk, "on": True, "brightness": 60},
        {"light_id": lights["tunable_white"].pk, "on": True, "brightness": 200, "color_temp_kelvin": 2800},
        {"light_id": lights["rgb"].pk, "on": True, "brightness": 120, "rgb": [255, 0, 128]},
    ]
    status, scene = _post(
        client, owner, "/api/v1/scenes", {"home_id": home.pk, "name": "Evening", "lights": entries}
    )
    assert status == 201, scene
    by_light = {entry["light_id"]: entry for entry in scene["lights"]}
    assert by_light[lights["rgb"].pk]["rgb"] == [255, 0, 128]
    with (
        mock.patch.object(realtime, "send_many_to_devices") as sent,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        status, applied = _post(client, owner, f"/api/v1/scenes/{scene['id']}/apply", {"transition_ms": 2000})
    assert status == 202, applied
    states = {
        light.kind: (
            light.desired_on,
            light.desired_brightness,
            light.desired_color_temp_kelvin,
            light.desired_rgb,
        )
        for light in Light.objects.all()
    }
    assert states == {
        "onoff": (True, None, None, None),
        "dimmable": (True, 60, None, None),
        "tunable_white": (True, 200, 2800, None),
        "rgb": (True, 120, None, 0xFF0080),
    }
    [(_, message)] = sent.call_args.args[0]
    assert {entry["transition_ms"] for entry in message["data"]["lights"]} == {2000}
    assert len(message["data"]["lights"]) == 4  # one state.set for the device's four lights


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "onoff", "rgb": [1, 2, 3]},
        {"kind": "dimmable", "color_temp_kelvin": 3000},
        {"kind": "tunable_white", "color_temp_kelvin": 9000},
        {"kind": "rgb", "rgb": [1, 2]},
        {"kind": "dimmable", "brightness": 256},
    ],
)
def test_a_scene_state_the_light_refuses_is_a_422(client: Client, setup: tuple, entry: dict) -> None:
    owner, home, lights = setup
    kind = entry.pop("kind")
    body = {"home_id": home.pk, "name": "Bad", "lights": [{"light_id": lights[kind].pk, "on": True, **entry}]}
    status, answer = _post(client, owner, "/api/v1/scenes", body)
    assert status == 422, answer
    assert client.get("/api/v1/scenes", **bearer(owner)).json() == []


def test_a_schedule_sets_a_level_and_starts_one_fade(
    client: Client, setup: tuple, django_capture_on_commit_callbacks: object
) -> None:
    owner, home, lights = setup
    room = lights["dimmable"].room
    body = {
        "home_id": home.pk,
        "name": "Sunrise",
        "target": "room",
        "target_id": room.pk,
        "time": "07:00",
        "brightness": 180,
        "color_temp_kelvin": 3000,
        "transition_ms": 30 * 60 * 1000,
    }
    status, created = _post(client, owner, "/api/v1/schedules", body)
    assert status == 201, created
    assert (created["brightness"], created["transition_ms"]) == (180, 1_800_000)
    from lamplighter.automations.models import Schedule

    Schedule.objects.filter(pk=created["id"]).update(armed_at=MONDAY_0700_PARIS - timedelta(days=1))
    with (
        mock.patch.object(realtime, "send_many_to_devices") as sent,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        [run] = schedules_run_due(now=MONDAY_0700_PARIS + timedelta(seconds=5))
    assert run.outcome == ScheduleRun.Outcome.FIRED, run.detail
    dimmable, tunable = Light.objects.get(kind="dimmable"), Light.objects.get(kind="tunable_white")
    assert (dimmable.desired_on, dimmable.desired_brightness) == (True, 180)
    assert (tunable.desired_brightness, tunable.desired_color_temp_kelvin) == (180, 3000)
    assert Light.objects.get(kind="onoff").desired_on is True
    [(_, message)] = sent.call_args.args[0]
    assert [entry["transition_ms"] for entry in message["data"]["lights"]] == [1_800_000] * 4


@pytest.mark.parametrize(
    "extra",
    [{"transition_ms": -1}, {"transition_ms": 3_600_001}, {"brightness": 300}, {"color_temp_kelvin": 50}],
)
def test_a_schedule_with_a_bad_level_or_fade_is_refused(client: Client, setup: tuple, extra: dict) -> None:
    owner, home, lights = setup
    body = {
        "home_id": home.pk,
        "name": "X",
        "target": "light",
        "target_id": lights["dimmable"].pk,
        "time": "07:00",
    }
    status, answer = _post(client, owner, "/api/v1/schedules", {**body, **extra})
    assert status == 422, answer
    assert client.get("/api/v1/schedules", **bearer(owner)).json() == []


def test_a_schedule_spec_is_checked_by_the_service_too(setup: tuple) -> None:
    from lamplighter.lights.state import LightStateError

    _, home, lights = setup
    spec = ScheduleSpec(
        name="Y", target="light", target_id=lights["dimmable"].pk, time_of_day=time(7, 0), transition_ms=-3
    )
    with pytest.raises(LightStateError):
        schedule_create(home=home, spec=spec)
