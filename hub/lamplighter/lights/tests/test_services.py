"""Desired/reported reconciliation: versions, local changes, conflicts."""

import pytest

from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.firmware import protocol
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_command_apply, light_reports_apply
from lamplighter.lights.state import light_command

pytestmark = pytest.mark.django_db


def make_light(**kwargs: object) -> Light:
    room = RoomFactory(name="Kitchen")
    device = DeviceFactory(home=room.home)
    return LightFactory(room=room, device=device, name="Ceiling", **kwargs)


def entry(light: Light, on: bool, version: int, changed: bool = False) -> dict:
    return protocol.light_entry(light.room.name, light.name, protocol.light_state(on), version, changed)


def test_set_desired_bumps_version_and_keeps_reported_apart() -> None:
    light = make_light()
    updated = light_command_apply(light_id=light.pk, command=light_command({"on": True}))
    assert (updated.desired_on, updated.desired_version) == (True, 2)
    assert updated.reported_on is None
    assert updated.pending


def test_report_of_the_desired_version_is_stored_as_reported() -> None:
    light = light_command_apply(light_id=make_light().pk, command=light_command({"on": True}))
    resend, unknown = light_reports_apply(device=light.device, entries=[entry(light, True, 2)])
    light.refresh_from_db()
    assert (resend, unknown) == ([], [])
    assert (light.reported_on, light.reported_version, light.pending) == (True, 2, False)


def test_local_change_on_the_current_version_becomes_desired() -> None:
    light = make_light()
    resend, _ = light_reports_apply(device=light.device, entries=[entry(light, True, 1, changed=True)])
    light.refresh_from_db()
    assert (light.desired_on, light.desired_version) == (True, 2)
    assert [item.pk for item in resend] == [light.pk]


def test_conflict_keeps_the_hubs_newer_state() -> None:
    light = light_command_apply(
        light_id=make_light().pk, command=light_command({"on": False})
    )  # hub moved to version 2 while apart
    resend, _ = light_reports_apply(device=light.device, entries=[entry(light, True, 1, changed=True)])
    light.refresh_from_db()
    assert (light.desired_on, light.desired_version) == (False, 2)
    assert light.reported_on is True
    assert [item.pk for item in resend] == [light.pk]


def test_device_ahead_of_a_restored_hub_gets_a_newer_version() -> None:
    light = make_light()
    resend, _ = light_reports_apply(device=light.device, entries=[entry(light, False, 40)])
    light.refresh_from_db()
    assert light.desired_version == 41
    assert [item.pk for item in resend] == [light.pk]


def test_stale_report_is_stored_without_resending() -> None:
    light = light_command_apply(light_id=make_light().pk, command=light_command({"on": True}))
    resend, _ = light_reports_apply(device=light.device, entries=[entry(light, False, 1)])
    light.refresh_from_db()
    assert resend == []
    assert (light.reported_on, light.reported_version, light.pending) == (False, 1, True)


def test_unknown_and_foreign_lights_are_named_not_touched() -> None:
    light = make_light()
    other = LightFactory(room=light.room, device=DeviceFactory(home=light.room.home), name="Other")
    resend, unknown = light_reports_apply(
        device=light.device,
        entries=[entry(other, True, 1, changed=True), protocol.light_entry("Nowhere", "X", {"on": True}, 1)],
    )
    other.refresh_from_db()
    assert other.desired_on is False
    assert unknown == ["Kitchen/Other", "Nowhere/X"]
