"""REST API for lights: scoping by home, tokens, setting the desired state, bad input."""

import pytest
from django.test import Client

from conftest import bearer
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_with_light() -> tuple:
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    room = RoomFactory(home=home, name="Hall")
    light = LightFactory(room=room, name="Lamp", device=DeviceFactory(home=home))
    HomeFactory(owner=stranger)
    return owner, member, stranger, light


def test_list_shows_the_contract_fields(client: Client, home_with_light: tuple) -> None:
    owner, _, _, light = home_with_light
    response = client.get("/api/v1/lights", **bearer(owner))
    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == light.pk
    assert (item["name"], item["room"], item["device"]) == ("Lamp", "Hall", light.device.device_id)
    assert item["desired_on"] is False and item["reported_on"] is None


def test_member_sets_desired_state_and_gets_202(client: Client, home_with_light: tuple) -> None:
    _, member, _, light = home_with_light
    response = client.post(
        f"/api/v1/lights/{light.pk}/state", {"on": True}, content_type="application/json", **bearer(member)
    )
    assert response.status_code == 202
    assert response.json()["desired_on"] is True
    assert response.json()["pending"] is True
    light.refresh_from_db()
    assert light.desired_on is True


def test_other_home_cannot_read_or_change(client: Client, home_with_light: tuple) -> None:
    _, _, stranger, light = home_with_light
    headers = bearer(stranger)
    assert client.get("/api/v1/lights", **headers).json() == []
    assert client.get(f"/api/v1/lights/{light.pk}", **headers).status_code == 404
    response = client.post(
        f"/api/v1/lights/{light.pk}/state", {"on": True}, content_type="application/json", **headers
    )
    assert response.status_code == 404
    light.refresh_from_db()
    assert light.desired_on is False


def test_anonymous_and_bad_tokens_are_refused(client: Client, home_with_light: tuple) -> None:
    light = home_with_light[3]
    assert client.get("/api/v1/lights").status_code == 401
    assert client.get("/api/v1/lights", HTTP_AUTHORIZATION="Bearer llt_wrong").status_code == 401
    assert (
        client.post(
            f"/api/v1/lights/{light.pk}/state", {"on": True}, content_type="application/json"
        ).status_code
        == 401
    )


def test_session_auth_needs_csrf(home_with_light: tuple) -> None:
    owner, _, _, light = home_with_light
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = browser.post(f"/api/v1/lights/{light.pk}/state", {"on": True}, content_type="application/json")
    assert response.status_code in (401, 403)
    light.refresh_from_db()
    assert light.desired_on is False


@pytest.mark.parametrize(
    "body",
    ['{"on": "yes"}', "{}", "not json", '{"on": null}', "[]"],
)
def test_bad_state_bodies_get_a_clear_4xx(client: Client, home_with_light: tuple, body: str) -> None:
    owner, _, _, light = home_with_light
    response = client.post(
        f"/api/v1/lights/{light.pk}/state", body, content_type="application/json", **bearer(owner)
    )
    assert 400 <= response.status_code < 500
    light.refresh_from_db()
    assert light.desired_version == 1


def test_owner_manages_lights_member_cannot(client: Client, home_with_light: tuple) -> None:
    owner, member, _, light = home_with_light
    payload = {"room_id": light.room_id, "name": "New lamp"}
    assert (
        client.post("/api/v1/lights", payload, content_type="application/json", **bearer(member)).status_code
        == 403
    )
    created = client.post("/api/v1/lights", payload, content_type="application/json", **bearer(owner))
    assert created.status_code == 201
    duplicate = client.post("/api/v1/lights", payload, content_type="application/json", **bearer(owner))
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["detail"]
    assert client.delete(f"/api/v1/lights/{light.pk}", **bearer(member)).status_code == 403
    assert client.delete(f"/api/v1/lights/{light.pk}", **bearer(owner)).status_code == 204


def test_openapi_document_lists_the_endpoints(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/lights/{light_id}/state" in document["paths"]
    assert "/api/v1/devices/{device_pk}/rotate-secret" in document["paths"]
    assert client.get("/api/v1/docs").status_code == 200
