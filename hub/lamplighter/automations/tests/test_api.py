"""REST API for scenes and schedules: who may do what, validation answers, applying a scene."""

import pytest
from django.test import Client

from conftest import bearer
from factories import HomeFactory, LightFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> tuple:
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member, timezone="Europe/Paris")
    room = RoomFactory(home=home, name="Hall")
    lamp, spot = LightFactory(room=room, name="Lamp"), LightFactory(room=room, name="Spot")
    HomeFactory(owner=stranger)
    return owner, member, stranger, home, lamp, spot


def post(client: Client, url: str, body: object, user: object):  # type: ignore[no-untyped-def]
    return client.post(url, body, content_type="application/json", **bearer(user))


def make_scene(client: Client, people: tuple) -> dict:
    owner, _, _, home, lamp, spot = people
    response = post(
        client,
        "/api/v1/scenes",
        {
            "home_id": home.pk,
            "name": "Cosy",
            "lights": [{"light_id": lamp.pk, "on": True}, {"light_id": spot.pk, "on": False}],
        },
        owner,
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_owner_creates_a_scene_and_a_member_applies_it(client: Client, people: tuple) -> None:
    _, member, _, _, lamp, spot = people
    scene = make_scene(client, people)
    assert [(entry["name"], entry["on"]) for entry in scene["lights"]] == [("Lamp", True), ("Spot", False)]
    applied = post(client, f"/api/v1/scenes/{scene['id']}/apply", {}, member)
    assert applied.status_code == 202
    assert {light["id"]: (light["desired_on"], light["pending"]) for light in applied.json()["lights"]} == {
        lamp.pk: (True, True),
        spot.pk: (False, True),
    }
    lamp.refresh_from_db()
    assert lamp.desired_on is True and lamp.desired_version == 2


def test_scene_permission_cells(client: Client, people: tuple) -> None:
    owner, member, stranger, home, lamp, _ = people
    scene = make_scene(client, people)
    url = f"/api/v1/scenes/{scene['id']}"
    # A stranger learns nothing: 404 everywhere.
    assert client.get(url, **bearer(stranger)).status_code == 404
    assert post(client, url + "/apply", {}, stranger).status_code == 404
    assert client.delete(url, **bearer(stranger)).status_code == 404
    assert client.get("/api/v1/scenes", **bearer(stranger)).json() == []
    # A member sees and applies, but cannot edit.
    assert client.get(url, **bearer(member)).status_code == 200
    assert (
        client.patch(url, {"name": "Mine"}, content_type="application/json", **bearer(member)).status_code
        == 403
    )
    assert client.delete(url, **bearer(member)).status_code == 403
    assert post(client, "/api/v1/scenes", {"home_id": home.pk, "name": "X"}, member).status_code == 403
    # The owner edits and deletes.
    patched = client.patch(
        url,
        {"lights": [{"light_id": lamp.pk, "on": False}]},
        content_type="application/json",
        **bearer(owner),
    )
    assert patched.status_code == 200 and len(patched.json()["lights"]) == 1
    assert client.delete(url, **bearer(owner)).status_code == 204
    lamp.refresh_from_db()
    assert lamp.desired_version == 1  # nothing was applied by anyone refused


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "Cosy"}, "already exists"),
        ({"name": " "}, "name of 1 to 64"),
        ({"name": "Other", "lights": [{"light_id": 999999, "on": True}]}, "no such light"),
    ],
)
def test_scene_validation_is_a_400(client: Client, people: tuple, body: dict, detail: str) -> None:
    owner, _, _, home, _, _ = people
    make_scene(client, people)
    response = post(client, "/api/v1/scenes", {"home_id": home.pk, **body}, owner)
    assert response.status_code == 400 and detail in response.json()["detail"]


def test_schedule_crud_and_next_run(client: Client, people: tuple) -> None:
    owner, member, stranger, home, lamp, _ = people
    body = {
        "home_id": home.pk,
        "name": "Wake",
        "target": "light",
        "target_id": lamp.pk,
        "time": "07:15",
        "weekdays": ["mon", "fri"],
    }
    assert post(client, "/api/v1/schedules", body, member).status_code == 403
    created = post(client, "/api/v1/schedules", body, owner)
    assert created.status_code == 201, created.content
    schedule = created.json()
    assert (schedule["time"], schedule["weekdays"], schedule["timezone"]) == (
        "07:15",
        ["mon", "fri"],
        "Europe/Paris",
    )
    assert schedule["next_at"] is not None
    url = f"/api/v1/schedules/{schedule['id']}"
    assert client.get(url, **bearer(member)).status_code == 200
    assert client.get(url, **bearer(stranger)).status_code == 404
    changed = client.patch(
        url, {"enabled": False, "time": "08:00"}, content_type="application/json", **bearer(owner)
    )
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["time"], changed.json()["next_at"]) == (
        False,
        "08:00",
        None,
    )
    assert (
        client.patch(url, {"name": "x"}, content_type="application/json", **bearer(member)).status_code == 403
    )
    assert client.delete(url, **bearer(owner)).status_code == 204


@pytest.mark.parametrize(
    ("changes", "status", "detail"),
    [
        ({"time": None}, 400, "needs a time"),
        ({"time": "25:00"}, 422, ""),
        ({"weekdays": ["someday"]}, 400, "unknown weekday"),
        ({"target": "garage"}, 400, "target must be"),
        ({"target_id": 999999}, 400, "no such light"),
        ({"trigger": "sunset"}, 400, "latitude and longitude"),
        ({"action": "blink"}, 400, "action must be"),
    ],
)
def test_schedule_validation_never_500(
    client: Client, people: tuple, changes: dict, status: int, detail: str
) -> None:
    owner, _, _, home, lamp, _ = people
    body = {
        "home_id": home.pk,
        "name": "Bad",
        "target": "light",
        "target_id": lamp.pk,
        "time": "07:00",
        **changes,
    }
    response = post(client, "/api/v1/schedules", body, owner)
    assert response.status_code == status, response.content
    if detail:
        assert detail in response.json()["detail"]


def test_home_time_zone_and_location(client: Client, people: tuple) -> None:
    owner, member, _, home, lamp, _ = people
    url = f"/api/v1/homes/{home.pk}"
    bad = client.patch(url, {"timezone": "Mars/Olympus"}, content_type="application/json", **bearer(owner))
    assert bad.status_code == 400 and "unknown time zone" in bad.json()["detail"]
    assert (
        client.patch(url, {"latitude": 48.85}, content_type="application/json", **bearer(owner)).status_code
        == 400
    )
    assert (
        client.patch(url, {"timezone": "UTC"}, content_type="application/json", **bearer(member)).status_code
        == 403
    )
    ok = client.patch(
        url,
        {"timezone": "Europe/Berlin", "latitude": 52.52, "longitude": 13.4},
        content_type="application/json",
        **bearer(owner),
    )
    assert ok.status_code == 200
    assert (ok.json()["timezone"], ok.json()["latitude"]) == ("Europe/Berlin", 52.52)
    body = {
        "home_id": home.pk,
        "name": "Dusk",
        "target": "room",
        "target_id": lamp.room_id,
        "trigger": "sunset",
        "offset_minutes": -15,
    }
    created = post(client, "/api/v1/schedules", body, owner)
    assert created.status_code == 201 and created.json()["next_at"] is not None


def test_openapi_lists_the_new_endpoints(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/scenes/{scene_id}/apply" in paths
    assert "/api/v1/schedules/{schedule_id}" in paths
