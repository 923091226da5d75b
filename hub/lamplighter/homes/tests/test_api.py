"""REST API for homes and rooms."""

import pytest
from django.test import Client

from conftest import bearer
from factories import HomeFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_sees_only_their_homes_with_their_role(client: Client) -> None:
    alice, bob = UserFactory(), UserFactory()
    mine = HomeFactory(owner=alice, name="Mine")
    shared = HomeFactory(owner=bob, member=alice, name="Shared")
    HomeFactory(owner=bob, name="Bob's")
    homes = {h["name"]: h["role"] for h in client.get("/api/v1/homes", **bearer(alice)).json()}
    assert homes == {"Mine": "owner", "Shared": "member"}
    assert client.get(f"/api/v1/homes/{mine.pk}", **bearer(bob)).status_code == 404
    assert client.get(f"/api/v1/homes/{shared.pk}", **bearer(alice)).status_code == 200


def test_create_home_then_rooms(client: Client) -> None:
    user = UserFactory()
    home = client.post(
        "/api/v1/homes", {"name": "Cabin"}, content_type="application/json", **bearer(user)
    ).json()
    assert home["role"] == "owner"
    room = client.post(
        "/api/v1/rooms",
        {"home_id": home["id"], "name": "Loft"},
        content_type="application/json",
        **bearer(user),
    )
    assert room.status_code == 201
    again = client.post(
        "/api/v1/rooms",
        {"home_id": home["id"], "name": "Loft"},
        content_type="application/json",
        **bearer(user),
    )
    assert again.status_code == 400
    renamed = client.patch(
        f"/api/v1/rooms/{room.json()['id']}",
        {"name": "Attic"},
        content_type="application/json",
        **bearer(user),
    )
    assert renamed.json()["name"] == "Attic"
    assert client.delete(f"/api/v1/rooms/{room.json()['id']}", **bearer(user)).status_code == 204


def test_members_cannot_change_rooms(client: Client) -> None:
    owner, member = UserFactory(), UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner, member=member))
    assert client.delete(f"/api/v1/rooms/{room.pk}", **bearer(member)).status_code == 403
    assert client.get("/api/v1/rooms", **bearer(member)).json()[0]["name"] == room.name
