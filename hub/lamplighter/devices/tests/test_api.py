"""REST API for devices: registration shows the secret once, rotation, scoping, roles."""

import pytest
from django.test import Client

from conftest import basic, bearer
from factories import DeviceFactory, HomeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_register_returns_a_working_secret_once(client: Client) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    created = client.post(
        "/api/v1/devices",
        {"home_id": home.pk, "name": "hall"},
        content_type="application/json",
        **bearer(owner),
    )
    assert created.status_code == 201
    body = created.json()
    assert client.get("/lights_status/", **basic(body["device_id"], body["secret"])).status_code == 200
    listed = client.get("/api/v1/devices", **bearer(owner)).json()
    assert [d["device_id"] for d in listed] == [body["device_id"]]
    assert "secret" not in listed[0] and "secret_hash" not in listed[0] and "lan_token" not in listed[0]


def test_rotation_invalidates_the_old_secret(client: Client) -> None:
    owner = UserFactory()
    device = DeviceFactory(home=HomeFactory(owner=owner), secret="old-secret")
    response = client.post(f"/api/v1/devices/{device.pk}/rotate-secret", **bearer(owner))
    assert response.status_code == 200
    new_secret = response.json()["secret"]
    assert client.get("/lights_status/", **basic(device.device_id, "old-secret")).status_code == 401
    assert client.get("/lights_status/", **basic(device.device_id, new_secret)).status_code == 200


def test_members_and_strangers_cannot_manage_devices(client: Client) -> None:
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    device = DeviceFactory(home=home)
    payload = {"home_id": home.pk, "name": "x"}
    assert (
        client.post("/api/v1/devices", payload, content_type="application/json", **bearer(member)).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/devices", payload, content_type="application/json", **bearer(stranger)
        ).status_code
        == 404
    )
    assert client.post(f"/api/v1/devices/{device.pk}/rotate-secret", **bearer(member)).status_code == 403
    assert client.post(f"/api/v1/devices/{device.pk}/rotate-secret", **bearer(stranger)).status_code == 404
    assert client.get(f"/api/v1/devices/{device.pk}", **bearer(member)).status_code == 200
    assert client.get(f"/api/v1/devices/{device.pk}", **bearer(stranger)).status_code == 404


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_bad_device_names_are_a_400(client: Client, name: str) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    response = client.post(
        "/api/v1/devices",
        {"home_id": home.pk, "name": name},
        content_type="application/json",
        **bearer(owner),
    )
    assert response.status_code == 400
