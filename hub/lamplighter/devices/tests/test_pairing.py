"""Pairing: one-time codes (owners only, hashed, single use, expiring) and the lockout on wrong codes."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import bearer
from factories import HomeFactory, UserFactory
from lamplighter.devices import services
from lamplighter.devices.models import Device, PairingCode
from lamplighter.firmware import protocol

pytestmark = pytest.mark.django_db


def pair(client: Client, code: str, name: str | None = "porch", addr: str = "10.0.0.9") -> object:
    body = protocol.build_pair_request(code, name, "esp32")
    return client.post(
        protocol.HUB_PAIR_PATH, json.dumps(body), content_type="application/json", REMOTE_ADDR=addr
    )


def test_owner_gets_a_code_that_pairs_once(client: Client) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    made = client.post(
        "/api/v1/pairing-codes",
        {"home_id": home.pk},
        content_type="application/json",
        **bearer(owner),
    )
    assert made.status_code == 201
    code = made.json()["code"]
    assert len(code) == protocol.PAIRING_CODE_LENGTH
    assert not PairingCode.objects.filter(code_hash__icontains=code).exists()  # kept only as a keyed hash
    answer = pair(client, code.lower()[:4] + "-" + code[4:])
    assert answer.status_code == 201 and answer["Cache-Control"] == "no-store"
    body = answer.json()
    device = Device.objects.get(device_id=body["device_id"])
    assert device.home == home and device.name == "porch" and device.board == "esp32"
    assert services.device_authenticate(device_id=body["device_id"], secret=body["secret"]) == device
    assert pair(client, code).status_code == 403  # single use


def test_members_and_strangers_get_no_code(client: Client) -> None:
    owner, stranger = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner)
    answer = client.post(
        "/api/v1/pairing-codes",
        {"home_id": home.pk},
        content_type="application/json",
        **bearer(stranger),
    )
    assert answer.status_code == 404


def test_expired_codes_do_not_pair(client: Client) -> None:
    pairing, code = services.pairing_code_create(home=HomeFactory())
    PairingCode.objects.filter(pk=pairing.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pair(client, code).status_code == 403
    assert not Device.objects.exists()


def test_bad_requests(client: Client) -> None:
    assert client.post(protocol.HUB_PAIR_PATH, "nope", content_type="application/json").status_code == 400
    assert pair(client, "SHORT").status_code == 400
    assert client.get(protocol.HUB_PAIR_PATH).status_code == 405


def test_wrong_codes_lock_the_address_out(client: Client) -> None:
    _, code = services.pairing_code_create(home=HomeFactory())
    for _ in range(services.PAIRING_MAX_FAILURES):
        assert pair(client, "ABCDEFGH").status_code == 403
    locked = pair(client, code)  # even the right code, from this address, for a while
    assert locked.status_code == 429 and locked["Retry-After"]
    assert pair(client, code, addr="10.0.0.10").status_code == 201  # another address is not locked


def test_names_are_made_unique_in_the_home(client: Client) -> None:
    home = HomeFactory()
    first = pair(client, services.pairing_code_create(home=home)[1], name="porch").json()
    second = pair(client, services.pairing_code_create(home=home)[1], name="porch").json()
    assert (first["name"], second["name"]) == ("porch", "porch 2")
    unnamed = pair(client, services.pairing_code_create(home=home)[1], name=None).json()
    assert unnamed["name"] == "new device"


def test_dashboard_shows_a_code_to_owners_only(client: Client) -> None:
    owner, member = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner)
    client.force_login(owner)
    page = client.post(f"/homes/{home.pk}/pairing-code/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert b'id="pairing-code"' in page.content
    assert PairingCode.objects.filter(home=home).count() == 1
    client.force_login(member)
    assert client.post(f"/homes/{home.pk}/pairing-code/").status_code == 404
