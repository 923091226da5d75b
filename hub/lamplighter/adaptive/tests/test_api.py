"""REST API of adaptive white: the profile on the home, the switches, the curve now, resuming."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.test import Client

from conftest import bearer
from factories import HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.adaptive.curve import Profile, curve_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_setup() -> tuple:
    owner, member = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member, timezone="Europe/Berlin", latitude=52.52, longitude=13.405)
    room = RoomFactory(home=home, name="Living")
    white = LightFactory(room=room, name="White", kind="tunable_white", min_kelvin=2200, max_kelvin=6500)
    switch = LightFactory(room=room, name="Switch", kind="onoff")
    return owner, member, home, room, white, switch


def patch(client: Client, url: str, body: object, user: object):  # type: ignore[no-untyped-def]
    return client.patch(url, body, content_type="application/json", **bearer(user))


def test_home_shows_the_default_profile_and_takes_changes(client: Client, home_setup: tuple) -> None:
    owner, _, home, *_ = home_setup
    shown = client.get(f"/api/v1/homes/{home.pk}", **bearer(owner)).json()["adaptive"]
    assert shown == {
        "min_brightness": 51,
        "max_brightness": 255,
        "min_kelvin": 2000,
        "max_kelvin": 5500,
        "sleep": None,
    }
    changed = patch(
        client,
        f"/api/v1/homes/{home.pk}",
        {"adaptive": {"min_brightness": 20, "max_kelvin": 5000, "sleep": {"brightness": 5, "kelvin": 1800}}},
        owner,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["adaptive"] == {
        "min_brightness": 20,
        "max_brightness": 255,
        "min_kelvin": 2000,
        "max_kelvin": 5000,
        "sleep": {"brightness": 5, "kelvin": 1800},
    }
    # Left out: kept; sleep null: removed.
    cleared = patch(client, f"/api/v1/homes/{home.pk}", {"adaptive": {"sleep": None}}, owner).json()[
        "adaptive"
    ]
    assert cleared["sleep"] is None and cleared["min_brightness"] == 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_brightness": 256}, "min_brightness"),
        ({"max_brightness": -1}, "max_brightness"),
        ({"min_kelvin": 999}, "min_kelvin"),
        ({"max_kelvin": "cold"}, "max_kelvin"),
        ({"min_brightness": 200, "max_brightness": 100}, "min_brightness"),
        ({"min_kelvin": 6000, "max_kelvin": 3000}, "min_kelvin"),
        ({"sleep": {"brightness": 10}}, "kelvin"),
        ({"sleep": {"brightness": 300, "kelvin": 2000}}, "brightness"),
    ],
)
def test_bad_profile_is_422_naming_the_field_and_stores_nothing(
    client: Client, home_setup: tuple, body: dict, field: str
) -> None:
    owner, _, home, *_ = home_setup
    answer = patch(client, f"/api/v1/homes/{home.pk}", {"name": "Renamed", "adaptive": body}, owner)
    assert answer.status_code == 422, answer.content
    assert field in answer.content.decode()
    home.refresh_from_db()
    assert home.name != "Renamed"
    assert client.get(f"/api/v1/homes/{home.pk}", **bearer(owner)).json()["adaptive"]["min_brightness"] == 51


def test_adaptive_now_is_the_curve(client: Client, home_setup: tuple) -> None:
    _, member, home, *_ = home_setup
    at = datetime(2026, 6, 21, 9, 0, tzinfo=UTC)
    with mock.patch("lamplighter.adaptive.api.timezone.now", return_value=at):
        answer = client.get(f"/api/v1/homes/{home.pk}/adaptive", **bearer(member))
    assert answer.status_code == 200
    expected = curve_at(at, latitude=52.52, longitude=13.405, profile=Profile())
    assert answer.json() == {
        "brightness": round(expected.brightness),
        "color_temp_kelvin": round(expected.kelvin),
        "sun_position": round(expected.sun_position, 4),
    }
    assert 0.9 < answer.json()["sun_position"] < 1


def test_adaptive_now_needs_coordinates(client: Client, home_setup: tuple) -> None:
    owner, _, home, *_ = home_setup
    patch(client, f"/api/v1/homes/{home.pk}", {"location_clear": True}, owner)
    answer = client.get(f"/api/v1/homes/{home.pk}/adaptive", **bearer(owner))
    assert answer.status_code == 422
    assert "latitude" in answer.json()["detail"]


def test_light_switch_and_fields(client: Client, home_setup: tuple) -> None:
    owner, _, _, _, white, switch = home_setup
    before = client.get(f"/api/v1/lights/{white.pk}", **bearer(owner)).json()
    assert (before["adaptive"], before["adaptive_state"], before["adaptive_paused"]) == (False, None, [])
    on = patch(client, f"/api/v1/lights/{white.pk}", {"adaptive": True}, owner)
    assert on.status_code == 200
    assert (on.json()["adaptive"], on.json()["adaptive_state"], on.json()["adaptive_paused"]) == (
        True,
        "following",
        [],
    )
    refused = patch(client, f"/api/v1/lights/{switch.pk}", {"adaptive": True, "name": "Renamed"}, owner)
    assert refused.status_code == 422 and "on/off" in refused.json()["detail"]
    switch.refresh_from_db()
    assert (switch.adaptive, switch.name) == (False, "Switch")
    assert patch(client, f"/api/v1/lights/{white.pk}", {"adaptive": "yes"}, owner).status_code == 422
    off = patch(client, f"/api/v1/lights/{white.pk}", {"adaptive": False}, owner).json()
    assert (off["adaptive"], off["adaptive_state"]) == (False, None)


def test_room_switch(client: Client, home_setup: tuple) -> None:
    owner, member, _, room, white, switch = home_setup
    dimmer = LightFactory(room=room, name="Dimmer", kind="dimmable")
    answer = patch(client, f"/api/v1/rooms/{room.pk}", {"adaptive": True}, owner)
    assert answer.status_code == 200 and answer.json()["adaptive"] is True
    white.refresh_from_db(), dimmer.refresh_from_db(), switch.refresh_from_db()
    assert (white.adaptive, dimmer.adaptive, switch.adaptive) == (True, True, False)
    listed = client.get("/api/v1/rooms", **bearer(member)).json()
    assert [r["adaptive"] for r in listed if r["id"] == room.pk] == [True]
    patch(client, f"/api/v1/lights/{dimmer.pk}", {"adaptive": False}, owner)
    assert [
        r["adaptive"] for r in client.get("/api/v1/rooms", **bearer(member)).json() if r["id"] == room.pk
    ] == [False]
    assert patch(client, f"/api/v1/rooms/{room.pk}", {"adaptive": True}, member).status_code == 403
    empty = RoomFactory(home=room.home, name="Hall")
    LightFactory(room=empty, kind="onoff")
    assert patch(client, f"/api/v1/rooms/{empty.pk}", {"adaptive": True}, owner).status_code == 422


def test_resume_clears_the_pause(client: Client, home_setup: tuple) -> None:
    owner, member, _, _, white, _ = home_setup
    patch(client, f"/api/v1/lights/{white.pk}", {"adaptive": True}, owner)
    dimmed = client.post(
        f"/api/v1/lights/{white.pk}/state",
        {"brightness": 40},
        content_type="application/json",
        **bearer(member),
    )
    assert dimmed.status_code == 202
    paused = client.get(f"/api/v1/lights/{white.pk}", **bearer(member)).json()
    assert (paused["adaptive_state"], paused["adaptive_paused"]) == ("paused", ["brightness"])
    resumed = client.post(f"/api/v1/lights/{white.pk}/adaptive_resume", **bearer(member))
    assert resumed.status_code == 200
    assert (resumed.json()["adaptive_state"], resumed.json()["adaptive_paused"]) == ("following", [])
