"""/lights_status/ as the hub serves it (devices.poll.PollRoute, before Django), over a real server."""

import httpx
import pytest

from conftest import LiveHub
from devices.models import Device
from factories import DeviceFactory, LightFactory, RoomFactory
from firmware import protocol

pytestmark = pytest.mark.django_db(transaction=True)


def test_poll_route_answers_like_the_django_view(live_hub: LiveHub) -> None:
    room = RoomFactory(name="Office")
    device = DeviceFactory(home=room.home, secret="office-secret")
    light = LightFactory(room=room, name="Desk", device=device, desired_on=True)
    LightFactory(room=RoomFactory(home=room.home, name="Attic"), name="Bulb", device=device)
    with httpx.Client(base_url=live_hub.url) as client:
        response = client.get("/lights_status/", auth=(device.device_id, "office-secret"))
        assert response.status_code == 200
        message = protocol.validate(response.json())
        assert message["type"] == protocol.HUB_WELCOME
        assert message["data"]["lights"] == [
            {"room": "Attic", "light": "Bulb", "state": {"on": False}, "version": 1},
            {"room": "Office", "light": "Desk", "state": {"on": True}, "version": light.desired_version},
        ]
        for auth in ((device.device_id, "wrong"), ("dev-nobody", "office-secret"), None):
            refused = client.get("/lights_status/", auth=auth)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert client.post("/lights_status/", auth=(device.device_id, "office-secret")).status_code == 405
        assert client.get("/lights_status/", headers={"Host": "evil.example"}).status_code == 400
    device.refresh_from_db()
    assert device.online and device.connection == Device.Connection.HTTP
