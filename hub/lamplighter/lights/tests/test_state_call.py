"""POST /api/v1/lights/<id>/state as the hub serves it (the async view behind Django's middleware
chain, one hand-over to the database thread), over a real server, against the test client's answers."""

from typing import Any
from unittest import mock

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client

from conftest import LiveHub
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.accounts.services import api_token_create
from lamplighter.homes.models import Membership
from lamplighter.infra import dbthread
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db(transaction=True)


def test_state_call_answers_like_the_api_view(live_hub: LiveHub, client: object) -> None:
    owner, stranger = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner)
    HomeFactory(owner=stranger)
    light = LightFactory(
        room=RoomFactory(home=home, name="Hall"), name="Lamp", device=DeviceFactory(home=home)
    )
    _, token = api_token_create(user=owner)
    _, stranger_token = api_token_create(user=stranger)
    url = f"/api/v1/lights/{light.pk}/state"
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_hub.url, timeout=10) as http:
        with mock.patch.object(dbthread, "run", wraps=dbthread.run) as handed:
            fast_answer = http.post(url, json={"on": True}, headers=bearer)
        assert handed.call_count == 1  # token, light and write: one hand-over to the database thread
        assert fast_answer.status_code == 202
        # The same call through Django (the test client runs the API view).
        django_answer = client.post(  # type: ignore[attr-defined]
            url, {"on": False}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert django_answer.status_code == 202
        fast_body, django_body = fast_answer.json(), django_answer.json()
        assert fast_body["desired_on"] is True and fast_body["desired_version"] == 2 and fast_body["pending"]
        assert django_body["desired_version"] == 3
        assert set(fast_body) == set(django_body)
        for key in ("id", "name", "room", "room_id", "home_id", "device", "device_name", "reported_on"):
            assert fast_body[key] == django_body[key]
        assert len(fast_body["desired_at"]) == len(django_body["desired_at"])  # same datetime format
        for header in ("content-type", "x-frame-options", "x-content-type-options", "referrer-policy"):
            assert fast_answer.headers[header] == django_answer.headers[header]
        # Everything else is Django's own answer, unchanged: refused tokens, other homes, bad bodies.
        django = Client(enforce_csrf_checks=True)
        cases = [
            ({"Authorization": "Bearer llt_wrong"}, b'{"on": true}', url),
            ({}, b'{"on": true}', url),
            ({"Authorization": f"Bearer {stranger_token}"}, b'{"on": true}', url),
            (bearer, b'{"on": "yes"}', url),
            (bearer, b'{"on": 1}', url),
            (bearer, b"{", url),
            (bearer, b'{"on": true}', "/api/v1/lights/99999999999999999999/state"),
            (bearer, b'{"on": true}', "/api/v1/lights/987654/state"),
        ]
        for headers, body, path in cases:
            live = http.post(path, content=body, headers={**headers, "Content-Type": "application/json"})
            extra = {"HTTP_AUTHORIZATION": headers["Authorization"]} if headers else {}
            expected = django.post(path, body, content_type="application/json", **extra)
            assert (live.status_code, live.content) == (expected.status_code, expected.content), (
                headers,
                body,
            )
            assert live.status_code >= 400
        assert (
            http.post(url, json={"on": True}, headers={**bearer, "Host": "evil.example"}).status_code == 400
        )
    light.refresh_from_db()
    assert (light.desired_on, light.desired_version) == (False, 3)
    assert Light.objects.count() == 1


def test_a_member_switches_a_light_without_a_device_and_an_inactive_user_is_refused(
    live_hub: LiveHub,
) -> None:
    owner, member, gone = UserFactory(), UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member)
    Membership.objects.create(home=home, user=gone, role=Membership.Role.MEMBER)
    light = LightFactory(room=RoomFactory(home=home, name="Shed"), name="Loose", device=None)
    _, member_token = api_token_create(user=member)
    _, gone_token = api_token_create(user=gone)
    gone.is_active = False
    gone.save()
    url = f"/api/v1/lights/{light.pk}/state"
    with httpx.Client(base_url=live_hub.url, timeout=10) as http:
        with mock.patch.object(dbthread, "run", wraps=dbthread.run) as handed:
            answer = http.post(url, json={"on": True}, headers={"Authorization": f"Bearer {member_token}"})
            refused = http.post(url, json={"on": False}, headers={"Authorization": f"Bearer {gone_token}"})
        assert handed.call_count == 2
        assert answer.status_code == 202
        body = answer.json()
        assert (body["device"], body["room"], body["desired_on"], body["desired_version"]) == (
            None,
            "Shed",
            True,
            2,
        )
        assert body["reported_on"] is None and body["pending"] is True  # nothing confirmed it
        expected = Client(enforce_csrf_checks=True).post(
            url, {"on": False}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {gone_token}"
        )
        assert (refused.status_code, refused.content) == (expected.status_code, expected.content)
        assert refused.status_code >= 400
    light.refresh_from_db()
    assert (light.desired_on, light.desired_version) == (True, 2)


def test_brightness_and_colour_take_one_hand_over_and_refusals_are_djangos(live_hub: LiveHub) -> None:
    from lamplighter.lights.services import light_create

    owner = UserFactory()
    home = HomeFactory(owner=owner)
    light = light_create(room=RoomFactory(home=home, name="Hall"), name="Strip", kind="dimmable")
    _, token = api_token_create(user=owner)
    url = f"/api/v1/lights/{light.pk}/state"
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_hub.url, timeout=10) as http:
        with mock.patch.object(dbthread, "run", wraps=dbthread.run) as handed:
            answer = http.post(url, json={"on": True, "brightness": 80, "transition_ms": 400}, headers=bearer)
            refused = http.post(url, json={"rgb": [1, 2, 3]}, headers=bearer)  # not a colour light
        assert handed.call_count == 2
        assert answer.status_code == 202
        assert (answer.json()["desired_brightness"], answer.json()["desired_version"]) == (80, 2)
        django = Client(enforce_csrf_checks=True)
        for body in (
            b'{"rgb": [1, 2, 3]}',
            b'{"brightness": 300}',
            b'{"brightness": true}',
            b'{"transition_ms": -1, "on": true}',
        ):
            live = (
                refused
                if body == b'{"rgb": [1, 2, 3]}'
                else http.post(url, content=body, headers={**bearer, "Content-Type": "application/json"})
            )
            expected = django.post(
                url, body, content_type="application/json", HTTP_AUTHORIZATION=bearer["Authorization"]
            )
            assert (live.status_code, live.content) == (expected.status_code, expected.content), body
            assert live.status_code == 422
    light.refresh_from_db()
    assert (light.desired_brightness, light.desired_version) == (80, 2)


async def test_under_production_settings_the_state_call_carries_every_security_header(settings: Any) -> None:
    """The call goes through the one chain: HSTS and the SSL redirect as every other answer has them."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^lights_status/$"]

    def make() -> tuple[int, str]:
        owner = UserFactory()
        light = LightFactory(room=RoomFactory(home=HomeFactory(owner=owner)), device=None)
        return light.pk, api_token_create(user=owner)[1]

    light_id, token = await sync_to_async(make)()
    client = AsyncClient()  # built now: its middleware reads the settings above
    url = f"/api/v1/lights/{light_id}/state"
    headers = {"Authorization": f"Bearer {token}"}
    plain = await client.post(url, {"on": True}, content_type="application/json", headers=headers)
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = await client.post(
        url, {"on": True}, content_type="application/json", headers=headers, secure=True
    )
    assert secure.status_code == 202
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    for header in (
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert header in secure, header
    listed = await client.get("/api/v1/lights", headers=headers, secure=True)
    assert secure["Strict-Transport-Security"] == listed["Strict-Transport-Security"]
    assert (await client.get("/healthz")).status_code == 200  # probes and the poll stay on plain HTTP
    assert (await client.get("/lights_status/")).status_code == 401
