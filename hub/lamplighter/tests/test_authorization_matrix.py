"""The authorization matrix: every API operation and WebSocket route, for every kind of caller.

Callers: anonymous, a device (its own Basic credentials), another device, a member of another
home (who owns that home), a member of ours, an owner of ours. Every REST operation in the
OpenAPI document must be classified below, so a new endpoint cannot ship unclassified.
"""

import base64
import itertools
import json
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.automations.services import ScheduleSpec, scene_create, schedule_create
from lamplighter.infra import realtime
from lamplighter.ota.models import Artifact, Rollout
from lamplighter.serving.api import api
from lamplighter.serving.routing import websocket_application

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "zq-our-home"  # every name of ours carries it: a stranger's answer must never contain it
RELEASES = itertools.count(10)  # each successful upload is a new release
CALLERS = ["anonymous", "device", "other_device", "stranger", "member", "owner"]

# What an operation needs: "list" (any user; filtered), "own" (any user creates their own),
# "read" and "use" (members of the home), "manage" (owners of the home), "release" (owners of any home).
LIST, OWN, READ, USE, MANAGE, RELEASE = "list", "own", "read", "use", "manage", "release"
EXPECTED: dict[str, dict[str, tuple[int, ...]]] = {
    LIST: {"stranger": (200,), "member": (200,), "owner": (200,)},
    OWN: {"stranger": (201,), "member": (201,), "owner": (201,)},
    READ: {"stranger": (404,), "member": (200,), "owner": (200,)},
    USE: {"stranger": (404,), "member": (200, 202), "owner": (200, 202)},
    MANAGE: {"stranger": (404,), "member": (403,), "owner": (200, 201, 204)},
    RELEASE: {"stranger": (201,), "member": (403,), "owner": (201,)},
}


def _rollout_body(w: dict) -> dict:
    return {"artifact_id": w["artifact"].pk, "device_ids": [w["device"].pk]}


# (method, path) -> (rule, path parameters, JSON body or None)
OPERATIONS: dict[tuple[str, str], tuple[str, Callable[[dict], dict], Callable[[dict], Any]]] = {
    ("GET", "/api/v1/homes"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/homes"): (OWN, lambda w: {}, lambda w: {"name": "New home"}),
    ("GET", "/api/v1/homes/{home_id}"): (READ, lambda w: {"home_id": w["home"].pk}, lambda w: None),
    ("PATCH", "/api/v1/homes/{home_id}"): (
        MANAGE,
        lambda w: {"home_id": w["home"].pk},
        lambda w: {"name": MARK + " 2"},
    ),
    ("POST", "/api/v1/homes/{home_id}/lights/state"): (
        USE,
        lambda w: {"home_id": w["home"].pk},
        lambda w: {"on": False},
    ),
    ("GET", "/api/v1/rooms"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/rooms"): (MANAGE, lambda w: {}, lambda w: {"home_id": w["home"].pk, "name": "Attic"}),
    ("PATCH", "/api/v1/rooms/{room_id}"): (
        MANAGE,
        lambda w: {"room_id": w["room"].pk},
        lambda w: {"name": MARK + " r"},
    ),
    ("DELETE", "/api/v1/rooms/{room_id}"): (MANAGE, lambda w: {"room_id": w["room"].pk}, lambda w: None),
    ("GET", "/api/v1/lights"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/lights"): (MANAGE, lambda w: {}, lambda w: {"room_id": w["room"].pk, "name": "New"}),
    ("GET", "/api/v1/lights/{light_id}"): (READ, lambda w: {"light_id": w["light"].pk}, lambda w: None),
    ("PATCH", "/api/v1/lights/{light_id}"): (
        MANAGE,
        lambda w: {"light_id": w["light"].pk},
        lambda w: {"name": MARK + " l"},
    ),
    ("DELETE", "/api/v1/lights/{light_id}"): (MANAGE, lambda w: {"light_id": w["light"].pk}, lambda w: None),
    ("POST", "/api/v1/lights/{light_id}/state"): (
        USE,
        lambda w: {"light_id": w["light"].pk},
        lambda w: {"on": True},
    ),
    ("GET", "/api/v1/homes/{home_id}/adaptive"): (READ, lambda w: {"home_id": w["home"].pk}, lambda w: None),
    ("POST", "/api/v1/lights/{light_id}/adaptive_resume"): (
        USE,
        lambda w: {"light_id": w["light"].pk},
        lambda w: None,
    ),
    ("GET", "/api/v1/devices"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/devices"): (
        MANAGE,
        lambda w: {},
        lambda w: {"home_id": w["home"].pk, "name": "new-device"},
    ),
    ("GET", "/api/v1/devices/{device_pk}"): (READ, lambda w: {"device_pk": w["device"].pk}, lambda w: None),
    ("PATCH", "/api/v1/devices/{device_pk}"): (
        MANAGE,
        lambda w: {"device_pk": w["device"].pk},
        lambda w: {"name": MARK + "-d"},
    ),
    ("DELETE", "/api/v1/devices/{device_pk}"): (
        MANAGE,
        lambda w: {"device_pk": w["device"].pk},
        lambda w: None,
    ),
    ("POST", "/api/v1/devices/{device_pk}/rotate-secret"): (
        MANAGE,
        lambda w: {"device_pk": w["device"].pk},
        lambda w: None,
    ),
    ("GET", "/api/v1/devices/{device_pk}/logs"): (
        READ,
        lambda w: {"device_pk": w["device"].pk},
        lambda w: None,
    ),
    ("POST", "/api/v1/pairing-codes"): (MANAGE, lambda w: {}, lambda w: {"home_id": w["home"].pk}),
    ("GET", "/api/v1/scenes"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/scenes"): (
        MANAGE,
        lambda w: {},
        lambda w: {
            "home_id": w["home"].pk,
            "name": "Night",
            "lights": [{"light_id": w["light"].pk, "on": False}],
        },
    ),
    ("GET", "/api/v1/scenes/{scene_id}"): (READ, lambda w: {"scene_id": w["scene"].pk}, lambda w: None),
    ("PATCH", "/api/v1/scenes/{scene_id}"): (
        MANAGE,
        lambda w: {"scene_id": w["scene"].pk},
        lambda w: {"name": MARK + " s"},
    ),
    ("DELETE", "/api/v1/scenes/{scene_id}"): (MANAGE, lambda w: {"scene_id": w["scene"].pk}, lambda w: None),
    ("POST", "/api/v1/scenes/{scene_id}/apply"): (USE, lambda w: {"scene_id": w["scene"].pk}, lambda w: None),
    ("GET", "/api/v1/schedules"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/schedules"): (
        MANAGE,
        lambda w: {},
        lambda w: {
            "home_id": w["home"].pk,
            "name": "Wake",
            "target": "light",
            "target_id": w["light"].pk,
            "time": "07:00",
        },
    ),
    ("GET", "/api/v1/schedules/{schedule_id}"): (
        READ,
        lambda w: {"schedule_id": w["schedule"].pk},
        lambda w: None,
    ),
    ("PATCH", "/api/v1/schedules/{schedule_id}"): (
        MANAGE,
        lambda w: {"schedule_id": w["schedule"].pk},
        lambda w: {"name": MARK + " w"},
    ),
    ("DELETE", "/api/v1/schedules/{schedule_id}"): (
        MANAGE,
        lambda w: {"schedule_id": w["schedule"].pk},
        lambda w: None,
    ),
    ("GET", "/api/v1/firmware/artifacts"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/firmware/artifacts"): (RELEASE, lambda w: {}, lambda w: None),
    ("GET", "/api/v1/firmware/rollouts"): (LIST, lambda w: {}, lambda w: None),
    ("POST", "/api/v1/firmware/rollouts"): (MANAGE, lambda w: {}, _rollout_body),
    ("GET", "/api/v1/firmware/rollouts/{rollout_id}"): (
        READ,
        lambda w: {"rollout_id": w["rollout"].pk},
        lambda w: None,
    ),
    ("POST", "/api/v1/firmware/rollouts/{rollout_id}/cancel"): (
        MANAGE,
        lambda w: {"rollout_id": w["rollout"].pk},
        lambda w: None,
    ),
    ("POST", "/api/v1/firmware/rollouts/{rollout_id}/resume"): (
        MANAGE,
        lambda w: {"rollout_id": w["rollout"].pk},
        lambda w: None,
    ),
}


def world(settings: Any) -> dict:
    settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = True
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member, name=MARK, latitude=48.85, longitude=2.35)
    HomeFactory(owner=stranger, name="Stranger's home")
    room = RoomFactory(home=home, name=MARK + " room")
    device = DeviceFactory(home=home, name=MARK + "-device", secret="our-device-secret")
    other_device = DeviceFactory(home=home, name=MARK + "-other", secret="other-device-secret")
    light = LightFactory(room=room, device=device, name=MARK + " light")
    scene = scene_create(home=home, name=MARK + " scene", lights=[(light.pk, True)])
    schedule = schedule_create(
        home=home,
        spec=ScheduleSpec(
            name=MARK + " schedule", target="light", target_id=light.pk, time_of_day=time(6, 30)
        ),
    )
    artifact = Artifact.objects.create(
        version="9.9.9", board="host", kind="image", size=4, sha256="0" * 64, manifest="{}", file_name="none"
    )
    rollout = Rollout.objects.create(artifact=artifact)
    rollout.jobs.create(device=device)
    return locals()


def headers_for(caller: str, w: dict) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller in ("device", "other_device"):
        device, secret = (
            (w["device"], "our-device-secret")
            if caller == "device"
            else (w["other_device"], "other-device-secret")
        )
        return {
            "HTTP_AUTHORIZATION": "Basic "
            + base64.b64encode(f"{device.device_id}:{secret}".encode()).decode()
        }
    return {"HTTP_AUTHORIZATION": "Bearer " + api_token_create(user=w[caller])[1]}


def call(client: Client, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    if path == "/api/v1/firmware/artifacts" and method == "POST":
        return client.post(
            path + f"?version=9.9.{next(RELEASES)}&board=host",
            b"fw!!",
            content_type="application/octet-stream",
            **headers,
        )
    data = json.dumps(body) if body is not None else None
    return client.generic(method, path, data or "", content_type="application/json", **headers)


def test_every_operation_is_classified() -> None:
    document = api.get_openapi_schema(path_prefix="/api/v1")
    operations = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert operations == set(OPERATIONS), {
        "unclassified": operations - set(OPERATIONS),
        "gone": set(OPERATIONS) - operations,
    }


@pytest.mark.parametrize(("method", "path"), sorted(OPERATIONS))
def test_cell(method: str, path: str, settings: Any) -> None:
    rule, params, body = OPERATIONS[(method, path)]
    w = world(settings)
    url = path.format(**params(w))
    client = Client()
    # The owner goes last: its call may delete what the others were refused.
    for caller in CALLERS:
        response = call(client, method, url, body(w), headers_for(caller, w))
        if caller in ("anonymous", "device", "other_device"):
            assert response.status_code == 401, (caller, response.status_code)
            continue
        assert response.status_code in EXPECTED[rule][caller], (
            caller,
            response.status_code,
            response.content[:200],
        )
        if caller == "stranger":
            assert MARK not in response.content.decode(), "a stranger saw our home's data"


async def test_device_websocket_cells() -> None:
    w = await database_sync_to_async(_ws_world)()

    async def connects(headers: list) -> bool:
        socket = WebsocketCommunicator(websocket_application, "/ws/device/", headers=headers)
        connected, _ = await socket.connect()
        if connected:
            await socket.disconnect()
        return connected

    def basic(device_id: str, secret: str) -> list:
        return [(b"authorization", b"Basic " + base64.b64encode(f"{device_id}:{secret}".encode()))]

    assert not await connects([])
    assert await connects(basic(w["device"].device_id, "our-device-secret"))
    assert await connects(basic(w["other_device"].device_id, "other-device-secret"))
    assert not await connects(basic(w["device"].device_id, "other-device-secret"))  # another's secret
    token = w["token"]
    assert not await connects([(b"authorization", f"Bearer {token}".encode())])  # users are not devices


async def test_dashboard_websocket_cells() -> None:
    w = await database_sync_to_async(_ws_world)()
    event = {
        "type": realtime.HOME_EVENT,
        "events": [{"type": "light.state", "light": {"id": 1, "name": MARK}}],
    }

    async def receives(user: Any) -> bool | None:
        socket = WebsocketCommunicator(
            websocket_application,
            "/ws/dashboard/",
            headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")],
        )
        if user is not None:
            socket.scope["user"] = user
        connected, _ = await socket.connect()
        if not connected:
            return None
        await get_channel_layer().group_send(realtime.home_group(w["home"].pk), event)
        got = not await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return got

    from django.contrib.auth.models import AnonymousUser

    assert await receives(AnonymousUser()) is None
    assert await receives(w["stranger"]) is False
    assert await receives(w["member"]) is True
    assert await receives(w["owner"]) is True


def _ws_world() -> dict:
    owner, member, stranger = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member, name=MARK)
    HomeFactory(owner=stranger)
    device = DeviceFactory(home=home, secret="our-device-secret")
    other_device = DeviceFactory(home=home, secret="other-device-secret")
    token = api_token_create(user=owner)[1]
    return locals()
