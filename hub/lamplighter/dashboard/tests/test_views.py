"""Dashboard pages through the Django test client: access, rendering, management, errors."""

import json
import re
from urllib.parse import unquote

import pytest
from django.test import AsyncClient, Client
from django.urls import reverse

from factories import (
    DEFAULT_TEST_PASSWORD,
    DeviceFactory,
    HomeFactory,
    LightFactory,
    RoomFactory,
    UserFactory,
)
from lamplighter.devices.models import Device
from lamplighter.firmware import config as config_module
from lamplighter.homes.models import Home, Room
from lamplighter.infra.secret_hashing import secret_matches
from lamplighter.lights.models import Light
from lamplighter.tools.flashing import FlashError, check_config

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def home(owner):  # type: ignore[no-untyped-def]
    return HomeFactory(owner=owner, name="Maple Street")


@pytest.fixture
def room(home):  # type: ignore[no-untyped-def]
    return RoomFactory(home=home, name="Kitchen")


@pytest.fixture
def device(home):  # type: ignore[no-untyped-def]
    return DeviceFactory(home=home, name="kitchen-controller", firmware_version="1.4.0", mode="local")


@pytest.fixture
def light(room, device):  # type: ignore[no-untyped-def]
    return LightFactory(room=room, device=device, name="Ceiling")


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_TEST_PASSWORD)
    return client


def member_of(home) -> Client:  # type: ignore[no-untyped-def]
    member = UserFactory()
    HomeFactory._meta.model.objects.get(pk=home.pk).memberships.create(user=member, role="member")
    return logged_in(member)


# ---- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("dashboard:index", {}),
        ("dashboard:home", {"home_id": 1}),
        ("dashboard:room-create", {"home_id": 1}),
        ("dashboard:device-register", {"home_id": 1}),
        ("dashboard:device-edit", {"device_pk": 1}),
    ],
)
def test_pages_need_a_login(name: str, kwargs: dict) -> None:
    response = Client().get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_logs_in_and_logout_is_a_post(owner) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"csrfmiddlewaretoken" in page.content
    response = client.post(reverse("login"), {"username": owner.username, "password": DEFAULT_TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:index")
    index = client.get(reverse("dashboard:index"))
    assert b'action="/logout/"' in index.content and b'method="post"' in index.content
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard:index")).status_code == 302


def test_wrong_password_shows_an_error(owner) -> None:  # type: ignore[no-untyped-def]
    response = Client().post(reverse("login"), {"username": owner.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


async def test_static_files_are_served_locally() -> None:
    for name in ("dashboard.css", "dashboard.js", "light_controls.js", "lamp.svg"):
        response = await AsyncClient().get("/static/dashboard/" + name)
        assert response.status_code == 200, name
        assert b"".join([chunk async for chunk in response.streaming_content])  # type: ignore[attr-defined]


# ---- homes -----------------------------------------------------------------------------------


def test_index_without_homes_offers_to_create_one(owner) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    response = client.get(reverse("dashboard:index"))
    assert b"Create a home" in response.content
    response = client.post(reverse("dashboard:home-create"), {"name": "Cabin"})
    home = Home.objects.get(name="Cabin")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home", args=[home.pk])
    assert home.memberships.get().user == owner


def test_creating_a_home_with_a_blank_name_shows_the_error(owner) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).post(reverse("dashboard:home-create"), {"name": "   "})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not Home.objects.exists()


def test_home_create_refuses_get(owner) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(owner).get(reverse("dashboard:home-create")).status_code == 405


def test_index_and_nav_list_only_the_users_homes(owner, home) -> None:  # type: ignore[no-untyped-def]
    HomeFactory(name="Somebody else's")
    content = logged_in(owner).get(reverse("dashboard:index") + "?all=1").content.decode()
    assert "Maple Street" in content and "Somebody else" not in content


def test_a_user_with_one_home_lands_on_it_and_can_still_see_the_list(owner, home) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    landing = client.get(reverse("dashboard:index"))
    assert landing.status_code == 302 and landing["Location"] == reverse("dashboard:home", args=[home.pk])
    page = client.get(landing["Location"]).content.decode()
    assert reverse("dashboard:index") + "?all=1" in page  # the way back to the list (and its form)
    HomeFactory(owner=owner, name="Cabin")
    listing = client.get(reverse("dashboard:index"))
    assert listing.status_code == 200 and "Cabin" in listing.content.decode()


def test_home_page_shows_rooms_lights_and_devices(owner, home, light, device) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).get(reverse("dashboard:home", args=[home.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Kitchen" in content and "Ceiling" in content
    assert f'data-light-id="{light.pk}"' in content and 'role="switch"' in content
    assert f'data-state-url="/api/v1/lights/{light.pk}/state"' in content
    assert "kitchen-controller" in content and device.device_id in content and "1.4.0" in content
    assert 'class="badge offline"' in content
    assert "pending: off" in content  # never reported yet
    assert 'id="live-config"' in content and 'id="initial-lights"' in content
    assert "Register a device" in content  # owner tools


def test_switch_shows_the_reported_state(owner, home, light) -> None:  # type: ignore[no-untyped-def]
    Light.objects.filter(pk=light.pk).update(
        desired_on=True, desired_version=2, reported_on=True, reported_version=2
    )
    content = logged_in(owner).get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert 'aria-checked="true"' in content
    assert 'data-role="pending" hidden' in content


def test_other_homes_are_not_found(owner, light, device) -> None:  # type: ignore[no-untyped-def]
    stranger = logged_in(UserFactory())
    room = light.room
    for url in [
        reverse("dashboard:home", args=[room.home_id]),
        reverse("dashboard:room-create", args=[room.home_id]),
        reverse("dashboard:room-edit", args=[room.pk]),
        reverse("dashboard:room-delete", args=[room.pk]),
        reverse("dashboard:light-create", args=[room.home_id]),
        reverse("dashboard:light-edit", args=[light.pk]),
        reverse("dashboard:light-delete", args=[light.pk]),
        reverse("dashboard:device-register", args=[room.home_id]),
        reverse("dashboard:device-edit", args=[device.pk]),
        reverse("dashboard:device-rotate-secret", args=[device.pk]),
        reverse("dashboard:device-delete", args=[device.pk]),
    ]:
        assert stranger.get(url).status_code == 404, url
        assert stranger.post(url, {"name": "x"}).status_code == 404, url
    assert Room.objects.filter(pk=room.pk).exists() and Light.objects.filter(pk=light.pk).exists()


# ---- members ---------------------------------------------------------------------------------


def test_members_see_and_switch_but_do_not_manage(home, light, device) -> None:  # type: ignore[no-untyped-def]
    client = member_of(home)
    content = client.get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert "Ceiling" in content and 'role="switch"' in content
    assert "Register a device" not in content and "Rename" not in content
    room = light.room
    for url in [
        reverse("dashboard:room-create", args=[home.pk]),
        reverse("dashboard:room-edit", args=[room.pk]),
        reverse("dashboard:room-delete", args=[room.pk]),
        reverse("dashboard:light-create", args=[home.pk]),
        reverse("dashboard:light-edit", args=[light.pk]),
        reverse("dashboard:light-delete", args=[light.pk]),
        reverse("dashboard:device-register", args=[home.pk]),
        reverse("dashboard:device-edit", args=[device.pk]),
        reverse("dashboard:device-rotate-secret", args=[device.pk]),
        reverse("dashboard:device-delete", args=[device.pk]),
    ]:
        assert client.get(url).status_code == 403, url
        response = client.post(url, {"name": "Hacked", "room": room.pk})
        assert response.status_code == 403, url
        assert b"Only an owner" in response.content
    assert Room.objects.get(pk=room.pk).name == "Kitchen"
    assert Light.objects.get(pk=light.pk).name == "Ceiling"
    assert Device.objects.get(pk=device.pk).name == "kitchen-controller"
    assert Device.objects.filter(home=home).count() == 1


def test_members_switch_through_the_api_with_csrf(home, light) -> None:  # type: ignore[no-untyped-def]
    client = member_of(home)
    client.handler.enforce_csrf_checks = True
    page = client.get(reverse("dashboard:home", args=[home.pk]))
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.content.decode()).group(1)  # type: ignore[union-attr]
    url = f"/api/v1/lights/{light.pk}/state"
    refused = client.post(url, {"on": True}, content_type="application/json")
    assert refused.status_code in (401, 403)
    accepted = client.post(url, {"on": True}, content_type="application/json", headers={"X-CSRFToken": token})
    assert accepted.status_code == 202 and accepted.json()["pending"] is True


# ---- rooms -----------------------------------------------------------------------------------


def test_owner_adds_renames_and_deletes_a_room(owner, home) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    assert client.get(reverse("dashboard:room-create", args=[home.pk])).status_code == 200
    response = client.post(reverse("dashboard:room-create", args=[home.pk]), {"name": "Attic"})
    assert response.status_code == 302
    room = Room.objects.get(home=home, name="Attic")
    response = client.post(reverse("dashboard:room-edit", args=[room.pk]), {"name": "Loft"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.name == "Loft"
    confirm = client.get(reverse("dashboard:room-delete", args=[room.pk]))
    assert confirm.status_code == 200 and b"Delete the room Loft" in confirm.content
    assert Room.objects.filter(pk=room.pk).exists()  # GET only asks
    assert client.post(reverse("dashboard:room-delete", args=[room.pk])).status_code == 302
    assert not Room.objects.filter(pk=room.pk).exists()


def test_duplicate_room_name_shows_the_service_error(owner, home, room) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).post(reverse("dashboard:room-create", args=[home.pk]), {"name": "Kitchen"})
    assert response.status_code == 200
    assert b"already exists in this home" in response.content
    assert Room.objects.filter(home=home).count() == 1


# ---- lights ----------------------------------------------------------------------------------


def test_owner_adds_edits_and_deletes_a_light(owner, home, room, device) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    form = client.get(reverse("dashboard:light-create", args=[home.pk]))
    assert form.status_code == 200 and b"kitchen-controller" in form.content
    response = client.post(
        reverse("dashboard:light-create", args=[home.pk]),
        {"name": "Counter", "room": room.pk, "device": device.pk},
    )
    assert response.status_code == 302
    light = Light.objects.get(room=room, name="Counter")
    assert light.device == device
    other_room = RoomFactory(home=home, name="Hall")
    response = client.post(
        reverse("dashboard:light-edit", args=[light.pk]),
        {"name": "Lamp", "room": other_room.pk, "device": ""},
    )
    assert response.status_code == 302
    light.refresh_from_db()
    assert (light.name, light.room, light.device) == ("Lamp", other_room, None)
    assert client.get(reverse("dashboard:light-delete", args=[light.pk])).status_code == 200
    assert Light.objects.filter(pk=light.pk).exists()
    assert client.post(reverse("dashboard:light-delete", args=[light.pk])).status_code == 302
    assert not Light.objects.filter(pk=light.pk).exists()


def test_owner_gives_a_light_its_kind_and_range_and_a_bad_range_is_a_form_error(owner, home, room) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    url = reverse("dashboard:light-create", args=[home.pk])
    assert b'name="kind"' in client.get(url).content
    response = client.post(
        url,
        {"name": "Strip", "room": room.pk, "kind": "tunable_white", "min_kelvin": 2200, "max_kelvin": 5000},
    )
    assert response.status_code == 302
    light = Light.objects.get(name="Strip")
    assert (light.kind, light.min_kelvin, light.max_kelvin) == ("tunable_white", 2200, 5000)
    assert 2200 <= light.desired_color_temp_kelvin <= 5000
    response = client.post(
        reverse("dashboard:light-edit", args=[light.pk]),
        {"name": "Strip", "room": room.pk, "kind": "tunable_white", "min_kelvin": 6000, "max_kelvin": 3000},
    )
    assert response.status_code == 200 and b"kelvin" in response.content
    light.refresh_from_db()
    assert (light.min_kelvin, light.max_kelvin) == (2200, 5000)
    page = client.get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert 'data-field="color_temp_kelvin"' in page and 'min="2200"' in page


def test_light_form_refuses_rooms_and_devices_of_other_homes(owner, home, room) -> None:  # type: ignore[no-untyped-def]
    elsewhere = HomeFactory(owner=owner)
    foreign_room = RoomFactory(home=elsewhere)
    foreign_device = DeviceFactory(home=elsewhere)
    client = logged_in(owner)
    url = reverse("dashboard:light-create", args=[home.pk])
    response = client.post(url, {"name": "Sneaky", "room": foreign_room.pk})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    response = client.post(url, {"name": "Sneaky", "room": room.pk, "device": foreign_device.pk})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not Light.objects.filter(name="Sneaky").exists()


def test_bad_light_input_shows_errors(owner, home, room, light) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    url = reverse("dashboard:light-create", args=[home.pk])
    duplicate = client.post(url, {"name": "Ceiling", "room": room.pk})
    assert duplicate.status_code == 200 and b"already exists in Kitchen" in duplicate.content
    blank = client.post(url, {"name": "", "room": room.pk})
    assert blank.status_code == 200 and b"This field is required" in blank.content
    too_long = client.post(url, {"name": "x" * 65, "room": room.pk})
    assert too_long.status_code == 200 and b"at most 64 characters" in too_long.content
    assert Light.objects.count() == 1


# ---- devices ---------------------------------------------------------------------------------


def test_register_shows_the_secret_once(owner, home) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    page = client.get(reverse("dashboard:device-register", args=[home.pk]))
    assert page.status_code == 200 and b"http://testserver/" in page.content
    response = client.post(reverse("dashboard:device-register", args=[home.pk]), {"name": "porch"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    device = Device.objects.get(home=home, name="porch")
    secret = response.context["secret"]
    content = response.content.decode()
    assert device.device_id in content and secret in content
    assert "shown only this once" in content
    assert secret_matches(secret, device.secret_hash) and secret not in device.secret_hash
    # Nowhere else: not on the home page, not on the device page.
    assert secret not in client.get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert secret not in client.get(reverse("dashboard:device-edit", args=[device.pk])).content.decode()


def test_register_with_a_taken_name_shows_the_error(owner, home, device) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).post(
        reverse("dashboard:device-register", args=[home.pk]), {"name": "kitchen-controller"}
    )
    assert response.status_code == 200 and b"already exists in this home" in response.content
    assert "secret" not in response.context or response.context.get("secret") is None
    assert Device.objects.filter(home=home).count() == 1


def test_owner_renames_rotates_and_deletes_a_device(owner, home, device, light) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    response = client.post(reverse("dashboard:device-edit", args=[device.pk]), {"name": "pantry"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.name == "pantry"
    old_hash = device.secret_hash
    confirm = client.get(reverse("dashboard:device-rotate-secret", args=[device.pk]))
    assert confirm.status_code == 200
    device.refresh_from_db()
    assert device.secret_hash == old_hash  # GET only asks
    rotated = client.post(reverse("dashboard:device-rotate-secret", args=[device.pk]))
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    secret = rotated.context["secret"]
    device.refresh_from_db()
    assert secret in rotated.content.decode() and secret_matches(secret, device.secret_hash)
    assert client.get(reverse("dashboard:device-delete", args=[device.pk])).status_code == 200
    assert Device.objects.filter(pk=device.pk).exists()
    assert client.post(reverse("dashboard:device-delete", args=[device.pk])).status_code == 302
    assert not Device.objects.filter(pk=device.pk).exists()
    light.refresh_from_db()
    assert light.device is None


def test_bad_device_name_shows_the_error(owner, home, device) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).post(reverse("dashboard:device-edit", args=[device.pk]), {"name": "x" * 65})
    assert response.status_code == 200 and b"at most 64 characters" in response.content


def test_get_never_changes_state(owner, home, room, light, device) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    before = (
        list(Room.objects.values()),
        list(Light.objects.values()),
        list(Device.objects.values()),
        list(Home.objects.values()),
    )
    for url in [
        reverse("dashboard:index") + "?all=1",
        reverse("dashboard:home", args=[home.pk]),
        reverse("dashboard:room-create", args=[home.pk]) + "?name=Extra",
        reverse("dashboard:room-edit", args=[room.pk]) + "?name=Renamed",
        reverse("dashboard:room-delete", args=[room.pk]),
        reverse("dashboard:light-create", args=[home.pk]) + f"?name=Extra&room={room.pk}",
        reverse("dashboard:light-edit", args=[light.pk]) + "?name=Renamed",
        reverse("dashboard:light-delete", args=[light.pk]),
        reverse("dashboard:device-register", args=[home.pk]) + "?name=extra",
        reverse("dashboard:device-edit", args=[device.pk]) + "?name=renamed",
        reverse("dashboard:device-rotate-secret", args=[device.pk]),
        reverse("dashboard:device-delete", args=[device.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    after = (
        list(Room.objects.values()),
        list(Light.objects.values()),
        list(Device.objects.values()),
        list(Home.objects.values()),
    )
    assert before == after


def test_forms_carry_csrf_and_post_without_it_is_refused(owner, home, room) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.login(username=owner.username, password=DEFAULT_TEST_PASSWORD)
    form = client.get(reverse("dashboard:room-create", args=[home.pk]))
    assert b"csrfmiddlewaretoken" in form.content
    response = client.post(reverse("dashboard:room-create", args=[home.pk]), {"name": "Attic"})
    assert response.status_code == 403
    assert not Room.objects.filter(name="Attic").exists()


def test_the_secret_page_offers_a_ready_config_json(owner, home, room, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    device = DeviceFactory(home=home, name="hall-board")
    LightFactory(
        room=room, name="Strip", device=device, kind="tunable_white", min_kelvin=2200, max_kelvin=6000
    )
    LightFactory(room=room, name="Ceiling", device=device)
    response = client.post(reverse("dashboard:device-rotate-secret", args=[device.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    config = json.loads(response.context["config_json"])
    assert config["device_id"] == device.device_id and config["secret"] == secret
    assert config["hubs"] == ["http://testserver"]
    assert config["lights"] == [
        {"room": room.name, "light": "Ceiling", "kind": "onoff"},
        {"room": room.name, "light": "Strip", "kind": "tunable_white", "kelvin": [2200, 6000]},
    ]
    content = response.content.decode()
    link = re.search(r'href="data:application/json;charset=utf-8,([^"]+)"', content)
    assert link is not None and 'download="config.json"' in content
    assert json.loads(unquote(link.group(1))) == config
    # The firmware takes it as it is; `lamplighter flash` asks only for the Wi-Fi placeholders.
    assert config_module.validate(config)["lights"][1]["kelvin"] == [2200, 6000]
    path = tmp_path / "config.json"
    path.write_text(response.context["config_json"])
    with pytest.raises(FlashError, match="Wi-Fi placeholders"):
        check_config(path)
