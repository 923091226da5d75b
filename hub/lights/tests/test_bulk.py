"""Many lights at once ("all off", scenes): one transaction, one version bump each, one state.set per device."""

from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import api_token_create
from devices.models import Device
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter import realtime
from lights.models import Light
from lights.services import lights_set_desired

pytestmark = pytest.mark.django_db


def bearer(user: object) -> dict[str, str]:
    _, token = api_token_create(user=user)  # type: ignore[arg-type]
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def building() -> tuple:
    """A home of 30 devices with two lights each (one already on), a light with no device, another home."""
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    room = RoomFactory(home=home, name="Hall")
    devices = [DeviceFactory(home=home, channel_name=f"specific.d{i}!1" if i % 3 else "") for i in range(30)]
    for i, device in enumerate(devices):
        LightFactory(room=room, name=f"A{i}", device=device, desired_on=True, desired_version=5)
        LightFactory(room=room, name=f"B{i}", device=device)
    LightFactory(room=room, name="Loose")
    other = LightFactory(room=RoomFactory(home=HomeFactory(owner=stranger)), name="Elsewhere")
    return owner, member, stranger, home, devices, other


def test_every_light_gets_its_own_next_version_and_one_message_per_device(
    building: tuple, django_capture_on_commit_callbacks: object
) -> None:
    _, _, _, home, devices, other = building
    before = {light.pk: light.desired_version for light in Light.objects.all()}
    sent: list[list] = []
    with (
        mock.patch.object(realtime, "group_send_many", side_effect=sent.append),
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
        CaptureQueriesContext(connection) as queries,
    ):
        changed = lights_set_desired(lights=Light.objects.filter(room__home=home), on=False)
    assert len(changed) == 61
    # Not one query per light: lock/read, one UPDATE, the devices' paths.
    assert len(queries) <= 8, [q["sql"][:120] for q in queries]
    for light in Light.objects.filter(room__home=home):
        assert light.desired_on is False and light.desired_version == before[light.pk] + 1
        assert light.pending
    other.refresh_from_db()
    assert other.desired_version == before[other.pk]
    events = [message for batch in sent for group, message in batch if group == realtime.home_group(home.pk)]
    assert len(events) == 61 and all(e["event"]["type"] == realtime.LIGHT_STATE for e in events)
    to_devices = {
        group: message["message"] for batch in sent for group, message in batch if group.startswith("device.")
    }
    socketed = [d for d in devices if d.channel_name]
    assert set(to_devices) == {realtime.device_group(d.device_id) for d in socketed}
    for message in to_devices.values():
        assert message["type"] == "state.set"
        assert sorted(e["state"]["on"] for e in message["data"]["lights"]) == [False, False]


def test_member_switches_a_whole_home_off_over_the_api(client: Client, building: tuple) -> None:
    _, member, stranger, home, _, other = building
    url = f"/api/v1/homes/{home.pk}/lights/state"
    response = client.post(url, {"on": False}, content_type="application/json", **bearer(member))
    assert response.status_code == 202, response.content
    body = response.json()
    assert len(body) == 61 and all(light["desired_on"] is False and light["pending"] for light in body)
    assert not Light.objects.filter(room__home=home, desired_on=True).exists()
    # Not a member: the same answer as a home that does not exist, and nothing changes.
    refused = client.post(url, {"on": True}, content_type="application/json", **bearer(stranger))
    assert refused.status_code == 404
    assert not Light.objects.filter(room__home=home, desired_on=True).exists()
    assert (
        client.post(url, {"on": "yes"}, content_type="application/json", **bearer(member)).status_code == 422
    )
    other.refresh_from_db()
    assert other.desired_version == 1


def test_a_scene_of_a_thousand_lights_is_created_and_applied(client: Client) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    room = RoomFactory(home=home, name="Floor")
    device = DeviceFactory(home=home)
    Light.objects.bulk_create([Light(room=room, name=f"L{i:04}", device=device) for i in range(1000)])
    lights = [{"light_id": pk, "on": pk % 2 == 0} for pk in Light.objects.values_list("pk", flat=True)]
    headers = bearer(owner)
    created = client.post(
        "/api/v1/scenes",
        {"home_id": home.pk, "name": "Everything", "lights": lights},
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 201, created.content[:300]
    assert len(created.json()["lights"]) == 1000
    applied = client.post(
        f"/api/v1/scenes/{created.json()['id']}/apply", {}, content_type="application/json", **headers
    )
    assert applied.status_code == 202, applied.content[:300]
    assert {light["id"]: light["desired_on"] for light in applied.json()["lights"]} == {
        entry["light_id"]: entry["on"] for entry in lights
    }
    assert set(Light.objects.values_list("desired_version", flat=True)) == {2}
    assert Device.objects.count() == 1
