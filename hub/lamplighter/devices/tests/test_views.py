"""Device HTTP routes: /lights_status/ and the polling message route; auth and bad input."""

import json

import pytest
from django.test import Client

from conftest import basic
from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db


@pytest.fixture
def device_with_light() -> tuple[Device, Light]:
    room = RoomFactory(name="Office")
    device = DeviceFactory(home=room.home, secret="office-secret")
    return device, LightFactory(room=room, name="Desk", device=device)


def hello(device: Device, lights: list | None = None) -> str:
    return protocol.encode(
        protocol.build_device_hello(
            device.device_id, "1.0.0", "host", lights or [], lan_url="http://127.0.0.1:9", lan_token="lan-tok"
        )
    )


def test_lights_status_needs_the_devices_own_credentials(client: Client, device_with_light: tuple) -> None:
    device, _ = device_with_light
    assert client.get("/lights_status/").status_code == 401
    assert client.get("/lights_status/", **basic(device.device_id, "wrong")).status_code == 401
    assert client.get("/lights_status/", **basic("dev-nobody", "office-secret")).status_code == 401
    assert client.get("/lights_status/", HTTP_AUTHORIZATION="Basic !!!notbase64").status_code == 401
    response = client.get("/lights_status/", **basic(device.device_id, "office-secret"))
    assert response.status_code == 200
    assert response.has_header("WWW-Authenticate") is False


def test_lights_status_returns_desired_states_and_marks_the_device_seen(
    client: Client, device_with_light: tuple
) -> None:
    device, light = device_with_light
    message = protocol.validate(
        client.get("/lights_status/", **basic(device.device_id, "office-secret")).json()
    )
    assert message["type"] == protocol.HUB_WELCOME
    assert message["data"]["lights"] == [
        {"room": "Office", "light": "Desk", "state": {"on": False}, "version": light.desired_version}
    ]
    device.refresh_from_db()
    assert device.online and device.connection == Device.Connection.HTTP


def test_polling_device_says_hello_and_reports(client: Client, device_with_light: tuple) -> None:
    device, light = device_with_light
    auth = basic(device.device_id, "office-secret")
    response = client.post("/device/messages/", hello(device), content_type="application/json", **auth)
    assert response.status_code == 200
    [welcome] = response.json()["replies"]
    assert welcome["type"] == protocol.HUB_WELCOME
    device.refresh_from_db()
    assert (device.firmware_version, device.lan_url, device.lan_token) == (
        "1.0.0",
        "http://127.0.0.1:9",
        "lan-tok",
    )

    report = protocol.build_state_report(
        [protocol.light_entry("Office", "Desk", {"on": True}, light.desired_version, changed=True)]
    )
    response = client.post("/device/messages/", json.dumps(report), content_type="application/json", **auth)
    [state_set] = response.json()["replies"]
    assert state_set["type"] == protocol.STATE_SET
    light.refresh_from_db()
    assert light.desired_on is True and state_set["data"]["lights"][0]["version"] == light.desired_version


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", protocol.ERROR_BAD_JSON),
        ("[]", protocol.ERROR_BAD_ENVELOPE),
        ('{"v": 1, "type": "hub.welcome", "data": {}}', protocol.ERROR_UNKNOWN_TYPE),
        ('{"v": 1, "type": "no.such", "data": {}}', protocol.ERROR_UNKNOWN_TYPE),
        ('{"v": 9, "type": "heartbeat.ping", "data": {}}', protocol.ERROR_UNSUPPORTED_VERSION),
        ('{"v": 1, "type": "state.report", "data": {"lights": [{"room": 1}]}}', protocol.ERROR_BAD_DATA),
        ("x" * (protocol.MAX_MESSAGE_BYTES + 1), protocol.ERROR_TOO_LARGE),
    ],
)
def test_bad_messages_get_a_reject_and_change_nothing(
    client: Client, device_with_light: tuple, body: str, code: str
) -> None:
    device, light = device_with_light
    response = client.post(
        "/device/messages/", body, content_type="application/json", **basic(device.device_id, "office-secret")
    )
    assert response.status_code == 400
    reject = response.json()
    assert reject["type"] == protocol.MESSAGE_REJECT and reject["data"]["code"] == code
    light.refresh_from_db()
    assert light.desired_version == 1 and light.reported_version is None


def test_oversized_body_is_refused(client: Client, device_with_light: tuple) -> None:
    device, _ = device_with_light
    response = client.post(
        "/device/messages/",
        "x" * (1024 * 1024),
        content_type="application/json",
        **basic(device.device_id, "office-secret"),
    )
    assert response.status_code == 400


def test_a_device_cannot_speak_for_another(client: Client, device_with_light: tuple) -> None:
    device, light = device_with_light
    other = DeviceFactory(home=device.home, secret="other-secret")
    response = client.post(
        "/device/messages/",
        hello(device),
        content_type="application/json",
        **basic(other.device_id, "other-secret"),
    )
    assert response.json()["replies"][0]["data"]["code"] == protocol.ERROR_WRONG_DEVICE
    report = protocol.build_state_report(
        [protocol.light_entry("Office", "Desk", {"on": True}, 1, changed=True)]
    )
    response = client.post(
        "/device/messages/",
        json.dumps(report),
        content_type="application/json",
        **basic(other.device_id, "other-secret"),
    )
    assert response.json()["replies"][0]["data"]["code"] == protocol.ERROR_UNKNOWN_LIGHT
    light.refresh_from_db()
    assert light.desired_on is False


def test_message_route_refuses_get_and_anonymous(client: Client) -> None:
    assert client.get("/device/messages/").status_code in (401, 405)
    assert client.post("/device/messages/", "{}", content_type="application/json").status_code == 401
