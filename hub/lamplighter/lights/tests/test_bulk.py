"""Many lights at once ("all off", scenes): one transaction, one version bump each, one state.set per device."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.devices.models import Device
from lamplighter.infra import lan_push, realtime
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_payload, light_wire_entry
from lamplighter.lights.services import lights_set_desired, lights_set_desired_states

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


def _home_events(sent: list, home_id: int) -> list[dict]:
    """The browser events sent to a home's dashboards (they go several to a channel message)."""
    return [
        event
        for batch in sent
        for group, message in batch
        if group == realtime.home_group(home_id)
        for event in message["events"]
    ]


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
    events = _home_events(sent, home.pk)
    assert len(events) == 61 and all(event["type"] == realtime.LIGHT_STATE for event in events)
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


def test_the_bulk_write_answers_and_delivers_as_the_orm_reads_the_lights(
    django_capture_on_commit_callbacks: object,
) -> None:
    """lights_set_desired_states reads its lights written out (lights with their room and five
    columns of their device): its answer, its events and its commands must be what the ORM's
    own read of the same lights gives."""
    home = HomeFactory()
    hall, porch = RoomFactory(home=home, name="Hall"), RoomFactory(home=home, name="Porch")
    socketed = DeviceFactory(home=home, name="Socketed", channel_name="specific.x!1")
    pushed = DeviceFactory(home=home, name="Pushed", lan_url="http://192.0.2.7", lan_token="t0ken")
    polling = DeviceFactory(home=home, name="Polling", lan_url="not a url", lan_token="t")
    reported = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    LightFactory(
        room=hall, name="B", device=socketed, reported_on=True, reported_version=1, reported_at=reported
    )
    LightFactory(room=hall, name="A", device=socketed, desired_version=7)
    LightFactory(room=porch, name="Lamp", device=pushed, reported_on=False, reported_version=3)
    LightFactory(room=porch, name="Post", device=polling, desired_on=True)
    LightFactory(room=porch, name="Loose")
    LightFactory(name="Elsewhere", device=DeviceFactory(channel_name="specific.y!1"))
    sent: list[list] = []
    with (
        mock.patch.object(realtime, "group_send_many", side_effect=sent.append),
        mock.patch.object(lan_push, "submit") as submit,
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        answer = lights_set_desired(lights=Light.objects.filter(room__home=home), on=False)
    read = Light.objects.filter(room__home=home).select_related("room", "device")
    ordered = sorted(read, key=lambda light: (light.room.home_id, light.room.name, light.name))
    assert answer == [light_payload(light) for light in ordered]
    assert [light["name"] for light in answer] == ["A", "B", "Lamp", "Loose", "Post"]
    assert answer[1]["reported_at"] == reported.isoformat() and answer[1]["device"] == socketed.device_id
    events = _home_events(sent, home.pk)
    assert events == [realtime.light_state_event(payload) for payload in answer]
    answer[0]["name"] = "changed by the caller"  # the events, sent later, keep their own copy
    assert events[0]["light"]["name"] == "A"
    commands = {
        group: message["message"] for batch in sent for group, message in batch if group.startswith("device.")
    }
    socket_lights = [light for light in ordered if light.device_id == socketed.pk]
    assert commands == {
        realtime.device_group(socketed.device_id): {
            "v": 1,
            "type": "state.set",
            "data": {"lights": [light_wire_entry(light) for light in socket_lights]},
        }
    }
    [lan_light] = [light for light in ordered if light.device_id == pushed.pk]
    submit.assert_called_once_with(
        lan_url="http://192.0.2.7", lan_token="t0ken", entries=[light_wire_entry(lan_light)]
    )


def test_lights_of_several_groups_take_the_first_state_and_an_empty_group_is_skipped(
    building: tuple, django_capture_on_commit_callbacks: object
) -> None:
    _, _, _, home, _, _ = building
    in_home = Light.objects.filter(room__home=home)
    with (
        mock.patch.object(realtime, "group_send_many"),
        django_capture_on_commit_callbacks(execute=True),  # type: ignore[operator]
    ):
        answer = lights_set_desired_states(
            groups=[(in_home.none(), True), (in_home.filter(name__startswith="A"), True), (in_home, False)]
        )
    assert len(answer) == 61 and len({light["id"] for light in answer}) == 61
    for light in Light.objects.filter(room__home=home):
        expected_version = 6 if light.name.startswith("A") else 2
        assert (light.desired_on, light.desired_version) == (light.name.startswith("A"), expected_version)
