"""The firmware API and pages: only owners upload and start rollouts; members see, strangers get 404."""

import base64
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from factories import DeviceFactory, HomeFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.ota.tests import helpers

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    _, token = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post_artifact(client: Client, data: bytes, version: str = "0.2.0") -> Any:
    signature = base64.b64encode(helpers.signature_file(data, version).encode()).decode()
    return client.post(
        f"/api/v1/firmware/artifacts?version={version}&board=host",
        data=data,
        content_type="application/octet-stream",
        HTTP_X_LAMPLIGHTER_SIGNATURE_FILE=signature,
    )


def test_owners_upload_and_roll_out_members_do_not(settings: Any, tmp_path: Path) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    device = DeviceFactory(home=home)
    assert post_artifact(client_for(member), helpers.image(1000)).status_code == 403
    response = post_artifact(client_for(owner), helpers.image(1000))
    assert response.status_code == 201 and response.json()["signed"] is True
    artifact_id = response.json()["id"]
    settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES = 500
    assert post_artifact(client_for(owner), helpers.image(1000), "0.3.0").status_code == 413

    body = {"artifact_id": artifact_id, "device_ids": [device.pk]}
    other_owner = UserFactory()
    HomeFactory(owner=other_owner)
    assert (
        client_for(other_owner)
        .post("/api/v1/firmware/rollouts", body, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        client_for(member)
        .post("/api/v1/firmware/rollouts", body, content_type="application/json")
        .status_code
        == 403
    )
    created = client_for(owner).post(
        "/api/v1/firmware/rollouts",
        {"artifact_id": artifact_id, "home_id": home.pk},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["jobs"][0]["device"] == device.device_id
    rollout_id = created.json()["id"]
    assert client_for(member).get(f"/api/v1/firmware/rollouts/{rollout_id}").status_code == 200
    assert client_for(stranger).get(f"/api/v1/firmware/rollouts/{rollout_id}").status_code == 404
    assert client_for(member).post(f"/api/v1/firmware/rollouts/{rollout_id}/cancel").status_code == 403
    assert (
        client_for(owner).post(f"/api/v1/firmware/rollouts/{rollout_id}/cancel").json()["status"]
        == "canceled"
    )


def test_the_firmware_page(settings: Any, tmp_path: Path) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path
    owner, member = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    DeviceFactory(home=home)
    browser = Client()
    browser.force_login(owner)
    page = browser.get(f"/homes/{home.pk}/firmware/")
    assert page.status_code == 200 and b"Upload firmware" in page.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = helpers.image(2000)
    upload = browser.post(
        f"/homes/{home.pk}/firmware/upload/",
        {
            "file": SimpleUploadedFile("fw.bin", data),
            "version": "0.2.0",
            "board": "host",
            "kind": "image",
            "signature": SimpleUploadedFile("fw.bin.sig", helpers.signature_file(data, "0.2.0").encode()),
        },
    )
    assert upload.status_code == 302
    member_browser = Client()
    member_browser.force_login(member)
    page = member_browser.get(f"/homes/{home.pk}/firmware/")
    assert page.status_code == 200 and b"Upload firmware" not in page.content
    assert member_browser.post(f"/homes/{home.pk}/firmware/upload/", {}).status_code == 403
