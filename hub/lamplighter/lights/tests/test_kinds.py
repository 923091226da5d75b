"""Lights of each kind: create with a kind and range, set brightness and colour, bad input, wire shapes."""

import json

import pytest
from django.test import Client

from conftest import bearer
from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.firmware import protocol
from lamplighter.gateway.poll import lights_status_answer
from lamplighter.infra import lan_push
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_wire_entry
from lamplighter.lights.services import light_command_apply, light_create, light_reports_apply
from lamplighter.lights.state import LightStateError, light_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def home() -> tuple:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    room = RoomFactory(home=home, name="Lounge")
    device = DeviceFactory(home=home)
    return owner, room, device


def _light(room: object, kind: str, name: str | None = None, **kwargs: object) -> Light:
    return light_create(room=room, name=name or kind, kind=kind, **kwargs)  # type: ignore[arg-type]


def _post(client: Client, user: object, url: str, body: object) -> tuple[int, dict]:
    response = client.post(url, json.dumps(body), content_type="application/json", **bearer(user))
    return response.status_code, response.json()


def test_create_gives_each_kind_its_fields_and_range(client: Client, home: tuple) -> None:
    owner, room, _ = home
    made = {}
    for kind, extra in (
        ("onoff", {}),
        ("dimmable", {}),
        ("tunable_white", {"min_kelvin": 2200, "max_kelvin": 5000}),
        ("rgb", {}),
    ):
        status, body = _post(
            client, owner, "/api/v1/lights", {"room_id": room.pk, "name": kind, "kind": kind, **extra}
        )
        assert status == 201, body
        made[kind] = body
    assert made["onoff"]["desired_brightness"] is None and made["onoff"]["desired_rgb"] is None
    assert made["dimmable"]["desired_brightness"] == 255
    tunable = made["tunable_white"]
    assert (tunable["min_kelvin"], tunable["max_kelvin"]) == (2200, 5000)
    assert 2200 <= tunable["desired_color_temp_kelvin"] <= 5000 and tunable["desired_rgb"] is None
    assert made["rgb"]["desired_rgb"] == [255, 255, 255] and made["rgb"]["desired_color_temp_kelvin"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "disco"},
        {"kind": "tunable_white", "min_kelvin": 6000, "max_kelvin": 3000},
        {"kind": "tunable_white", "min_kelvin": 500},
        {"kind": "tunable_white", "max_kelvin": 90000},
    ],
)
def test_create_refuses_a_kind_or_range_no_light_has(client: Client, home: tuple, body: dict) -> None:
    owner, room, _ = home
    status, answer = _post(client, owner, "/api/v1/lights", {"room_id": room.pk, "name": "Bad", **body})
    assert status == 422, answer
    assert answer["detail"]
    assert not Light.objects.filter(name="Bad").exists()


def test_partial_updates_merge_and_each_is_one_version(client: Client, home: tuple) -> None:
    owner, room, _ = home
    light = _light(room, "rgb")
    url = f"/api/v1/lights/{light.pk}/state"
    assert _post(client, owner, url, {"on": True, "rgb": [255, 80, 0]})[0] == 202
    status, body = _post(client, owner, url, {"brightness": 40})
    assert status == 202
    assert (body["desired_on"], body["desired_brightness"], body["desired_rgb"]) == (True, 40, [255, 80, 0])
    assert body["desired_version"] == light.desired_version + 2
    # Off, then on again: the last brightness and colour come back.
    _post(client, owner, url, {"on": False})
    status, body = _post(client, owner, url, {"on": True})
    assert (body["desired_on"], body["desired_brightness"], body["desired_rgb"]) == (True, 40, [255, 80, 0])
    assert body["desired_version"] == light.desired_version + 4


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("dimmable", {"brightness": 300}),
        ("dimmable", {"brightness": -1}),
        ("dimmable", {"brightness": "50"}),
        ("rgb", {"rgb": [10, 20]}),
        ("rgb", {"rgb": [10, 20, 256]}),
        ("tunable_white", {"color_temp_kelvin": 9000}),  # outside this light's 2700-6500
        ("tunable_white", {"color_temp_kelvin": 200}),
        ("dimmable", {"on": True, "transition_ms": -5}),
        ("dimmable", {"on": True, "transition_ms": 10**9}),
        ("onoff", {"rgb": [1, 2, 3]}),
        ("onoff", {"brightness": 10}),
        ("dimmable", {"color_temp_kelvin": 3000}),
        ("rgb", {"color_temp_kelvin": 3000}),
        ("dimmable", {}),
        ("dimmable", {"transition_ms": 100}),
    ],
)
def test_bad_input_is_a_clear_422_and_nothing_is_stored(
    client: Client, home: tuple, kind: str, body: dict
) -> None:
    owner, room, _ = home
    light = _light(room, kind)
    before = Light.objects.values().get(pk=light.pk)
    status, answer = _post(client, owner, f"/api/v1/lights/{light.pk}/state", body)
    assert status == 422, answer
    assert answer["detail"]
    assert Light.objects.values().get(pk=light.pk) == before


def test_home_wide_call_gives_each_kind_what_it_has(client: Client, home: tuple) -> None:
    owner, room, _ = home
    onoff, dimmable = _light(room, "onoff"), _light(room, "dimmable")
    tunable = _light(room, "tunable_white", min_kelvin=3000, max_kelvin=5000)
    status, answer = _post(
        client,
        owner,
        f"/api/v1/homes/{room.home_id}/lights/state",
        {"on": True, "brightness": 30, "color_temp_kelvin": 6000},
    )
    assert status == 202, answer
    by_id = {item["id"]: item for item in answer}
    assert by_id[onoff.pk]["desired_on"] is True and by_id[onoff.pk]["desired_brightness"] is None
    assert by_id[dimmable.pk]["desired_brightness"] == 30
    assert by_id[tunable.pk]["desired_color_temp_kelvin"] == 5000  # brought into its range
    status, _ = _post(client, owner, f"/api/v1/homes/{room.home_id}/lights/state", {"brightness": 999})
    assert status == 422
    assert Light.objects.get(pk=dimmable.pk).desired_brightness == 30


def test_pending_until_the_device_reports_the_same_state(home: tuple) -> None:
    _, room, device = home
    light = _light(room, "dimmable", device=device)
    light = light_command_apply(light_id=light.pk, command=light_command({"on": True, "brightness": 90}))
    entry = protocol.light_entry("Lounge", "dimmable", {"on": True, "brightness": 20}, light.desired_version)
    light_reports_apply(device=device, entries=[entry])
    light.refresh_from_db()
    assert light.pending  # same version, another brightness: not what was asked
    entry["state"]["brightness"] = 90
    light_reports_apply(device=device, entries=[entry])
    light.refresh_from_db()
    assert not light.pending and light.reported_brightness == 90


def test_a_change_on_the_device_becomes_the_desired_state(home: tuple) -> None:
    _, room, device = home
    light = _light(room, "tunable_white", device=device)
    version = light.desired_version
    entry = protocol.light_entry(
        "Lounge",
        "tunable_white",
        {"on": True, "brightness": 12, "color_temp_kelvin": 3000},
        version,
        changed=True,
    )
    resend, _ = light_reports_apply(device=device, entries=[entry])
    light.refresh_from_db()
    assert (light.desired_on, light.desired_brightness, light.desired_color_temp_kelvin) == (True, 12, 3000)
    assert light.desired_version == version + 1 and resend


def test_an_on_off_device_gets_only_on_and_a_rich_one_everything(home: tuple) -> None:
    _, room, device = home
    light = _light(room, "rgb", device=device)
    light = light_command_apply(
        light_id=light.pk, command=light_command({**{"on": True, "rgb": [0, 0, 255]}, "transition_ms": 1500})
    )
    old = light_wire_entry(light, capability=1, transition_ms=1500)
    assert old["state"] == {"on": True} and "transition_ms" not in old
    new = light_wire_entry(light, capability=2, transition_ms=1500)
    assert (
        new["state"] == {"on": True, "brightness": 255, "rgb": [0, 0, 255]} and new["transition_ms"] == 1500
    )
    assert lan_push.control_params(new) == {
        "room": "Lounge",
        "light": "rgb",
        "action": "on",
        "version": str(light.desired_version),
        "brightness": "255",
        "rgb": "0,0,255",
        "transition_ms": "1500",
    }
    assert set(lan_push.control_params(old)) == {"room", "light", "action", "version"}
    # A report from an on/off device (only `on`) does not leave the light pending for ever.
    light_reports_apply(
        device=device, entries=[protocol.light_entry("Lounge", "rgb", {"on": True}, light.desired_version)]
    )
    light.refresh_from_db()
    assert not light.pending


def test_a_poll_carries_the_fields_to_a_rich_device_only(home: tuple) -> None:
    from lamplighter.devices.services import device_register

    _, room, _ = home
    device, secret = device_register(home=room.home, name="Poller")
    light = _light(room, "dimmable", device=device)
    light_command_apply(light_id=light.pk, command=light_command({"on": True, "brightness": 77}))
    header = "Basic " + __import__("base64").b64encode(f"{device.device_id}:{secret}".encode()).decode()
    status, body = lights_status_answer(header)
    assert status == 200 and body["data"]["lights"][0]["state"] == {"on": True}
    device.lights_capability = 2
    device.save()
    status, body = lights_status_answer(header)
    [entry] = body["data"]["lights"]
    assert entry["state"] == {"on": True, "brightness": 77} and entry["kind"] == "dimmable"
    assert body["data"]["capabilities"] == protocol.capabilities()
    protocol.validate(body, protocol.HUB_MESSAGE_TYPES)


def test_changing_the_kind_is_a_new_desired_version(home: tuple) -> None:
    from lamplighter.lights.services import light_update

    _, room, device = home
    light = _light(room, "dimmable", device=device)
    light_command_apply(light_id=light.pk, command=light_command({"on": True, "brightness": 50}))
    light.refresh_from_db()
    version = light.desired_version
    light_update(
        light=light,
        name=light.name,
        room=room,
        device=device,
        kind="tunable_white",
        min_kelvin=2000,
        max_kelvin=4000,
    )
    light.refresh_from_db()
    assert light.desired_version == version + 1
    assert (light.desired_brightness, light.kind) == (50, "tunable_white")
    assert 2000 <= light.desired_color_temp_kelvin <= 4000
    with pytest.raises(LightStateError):
        light_command_apply(light_id=light.pk, command=light_command({"color_temp_kelvin": 4500}))


def test_openapi_describes_the_new_fields(client: Client) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    state = schemas["LightStateIn"]["properties"]
    assert {"on", "brightness", "color_temp_kelvin", "rgb", "transition_ms"} <= set(state)
    assert "0-255" in state["brightness"]["description"]
    assert {"kind", "min_kelvin", "max_kelvin"} <= set(schemas["LightIn"]["properties"])
    out = schemas["LightOut"]["properties"]
    assert {"kind", "desired_brightness", "reported_rgb", "desired_color_temp_kelvin", "device_kind"} <= set(
        out
    )
    assert set(out["kind"]["enum"]) == {"onoff", "dimmable", "tunable_white", "rgb"}
