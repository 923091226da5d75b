"""Adaptive white end to end: a real hub (its planner task running) and the real firmware, on
both runtimes (the simulator on CPython, the bundle on MicroPython's unix port): the planner's
held fade reaches the device; a person's change on the device pauses only what they changed and
is never reverted; off and on again resumes; the device comes on at the held white."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, RoomFactory, UserFactory
from lamplighter.adaptive import selectors
from lamplighter.adaptive.models import AdaptiveFade
from lamplighter.adaptive.plan import point
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "adaptive-end-to-end-device-secret"  # noqa: S105 - test fixture


def _target_at_fade_end(light: Light) -> dict[str, Any] | None:
    """The curve's state for this light at the end of the fade the planner last sent it."""
    fade = AdaptiveFade.objects.filter(light=light).first()
    if fade is None or fade.ends_at is None:
        return None
    fresh = Light.objects.select_related("room__home").get(pk=light.pk)
    place = selectors.place_of(home=fresh.room.home)
    assert place is not None
    return selectors.state_of_point(fresh, point(place, fade.ends_at))


def _reported(light: Light) -> Light:
    return Light.objects.get(pk=light.pk)


def _in_step(light: Light) -> bool:
    """The planner sent the light a fade since it was last reset, and the device confirmed it."""
    fade = AdaptiveFade.objects.filter(light=light).first()
    fresh = _reported(light)
    return fade is not None and fade.ends_at is not None and not fresh.pending


def test_adaptive_light_end_to_end(
    live_hub: LiveHub, start_device: Callable[..., Any], tmp_path: Path
) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner, latitude=52.52, longitude=13.405, timezone="Europe/Berlin")
    room = RoomFactory(home=home, name="Lounge")
    device = DeviceFactory(home=home, secret=SECRET)
    white = light_create(
        room=room, name="White", kind="tunable_white", device=device, min_kelvin=2000, max_kelvin=6500
    )
    simulated = start_device(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[live_hub.url],
        lights=[
            {
                "room": "Lounge",
                "light": "White",
                "kind": "tunable_white",
                "pins": {"cold": 2, "warm": 3},
                "kelvin": [2000, 6500],
            }
        ],
    )
    wait_for(
        lambda: Device.objects.get(pk=device.pk).lights_capability >= protocol.LIGHTS_ADAPTIVE,
        15,
        "the hello",
    )
    control = simulated.url + protocol.DEVICE_CONTROL_PATH
    auth = (device.device_id, SECRET)
    with api_client(live_hub, owner) as client:
        assert client.post(f"/api/v1/lights/{white.pk}/state", json={"on": True}).status_code == 202
        wait_for(lambda: _reported(white).reported_on is True, 10, "the light on")

        # Switched to adaptive: the planner sends a held fade to the curve; the device runs it.
        answer = client.patch(f"/api/v1/lights/{white.pk}", json={"adaptive": True})
        assert answer.status_code == 200 and answer.json()["adaptive_state"] == "following"
        wait_for(lambda: _reported(white).reported_cause == protocol.CAUSE_ADAPTIVE, 15, "the planner's fade")
        target = _target_at_fade_end(white)
        assert target is not None
        wait_for(
            lambda: (
                _reported(white).reported_color_temp_kelvin == target["color_temp_kelvin"]
                and _reported(white).reported_brightness == target["brightness"]
            ),
            10,
            "the fade's target reported",
        )

        # A person dims it on the device: brightness paused, never reverted; the colour follows.
        response = httpx.get(
            control,
            params={"room": "Lounge", "light": "White", "action": "on", "brightness": "40"},
            auth=auth,
            timeout=5,
        )
        assert response.status_code == 200, response.text
        wait_for(
            lambda: client.get(f"/api/v1/lights/{white.pk}").json()["adaptive_paused"] == ["brightness"],
            10,
            "the pause",
        )
        wait_for(lambda: _in_step(white), 15, "the colour's new fade, confirmed")
        assert _reported(white).reported_color_temp_kelvin == _target_at_fade_end(white)["color_temp_kelvin"]  # type: ignore[index]
        assert _reported(white).reported_brightness == 40
        assert simulated.light("Lounge", "White")["state"]["brightness"] == 40

        # Off on the device: the pause ends; the planner holds the curve's white on the dark light.
        response = httpx.get(
            control, params={"room": "Lounge", "light": "White", "action": "off"}, auth=auth, timeout=5
        )
        assert response.status_code == 200
        wait_for(
            lambda: client.get(f"/api/v1/lights/{white.pk}").json()["adaptive_state"] == "following",
            10,
            "resumed",
        )
        wait_for(lambda: _reported(white).reported_on is False and _in_step(white), 15, "the held target")
        held = _target_at_fade_end(white)
        assert held is not None
        assert _reported(white).reported_brightness == held["brightness"]
        assert simulated.light("Lounge", "White")["state"]["on"] is False  # never switched on

        # On from the hub: it comes on at the held white, not at the 40 it had.
        assert client.post(f"/api/v1/lights/{white.pk}/state", json={"on": True}).status_code == 202
        wait_for(lambda: _reported(white).reported_on is True, 10, "on again")
        assert _reported(white).reported_brightness == held["brightness"]
        assert client.get(f"/api/v1/lights/{white.pk}").json()["adaptive_paused"] == []
