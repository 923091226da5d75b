"""Dashboard pages of adaptive white: the switches, resuming, today's curve, the profile in settings."""

import pytest
from django.test import Client
from django.urls import reverse

from factories import HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.adaptive.selectors import profile_of
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client: Client) -> tuple:
    owner, member = UserFactory(), UserFactory()
    home = HomeFactory(owner=owner, member=member, timezone="Europe/Berlin", latitude=52.52, longitude=13.405)
    room = RoomFactory(home=home, name="Living")
    white = LightFactory(room=room, name="White", kind="tunable_white")
    LightFactory(room=room, name="Plain", kind="onoff")
    return owner, member, home, room, white


def test_home_page_shows_the_curve_and_the_switches(client: Client, setup: tuple) -> None:
    owner, _, home, room, white = setup
    client.force_login(owner)
    page = client.get(reverse("dashboard:home", kwargs={"home_id": home.pk})).content.decode()
    assert 'class="curve-brightness" points="0.0,' in page and 'class="curve-now"' in page
    assert reverse("dashboard:light-adaptive", kwargs={"light_id": white.pk}) in page
    assert reverse("dashboard:room-adaptive", kwargs={"room_id": room.pk}) in page


def test_switches_and_resume(client: Client, setup: tuple) -> None:
    owner, member, home, room, white = setup
    client.force_login(member)
    assert (
        client.post(
            reverse("dashboard:light-adaptive", kwargs={"light_id": white.pk}), {"adaptive": "1"}
        ).status_code
        == 403
    )
    client.force_login(owner)
    answer = client.post(reverse("dashboard:room-adaptive", kwargs={"room_id": room.pk}), {"adaptive": "1"})
    assert answer.status_code == 302
    white.refresh_from_db()
    assert white.adaptive
    Light.objects.filter(pk=white.pk).update(adaptive_paused_brightness=True)
    client.force_login(member)
    page = client.get(reverse("dashboard:home", kwargs={"home_id": home.pk})).content.decode()
    assert "paused (brightness); the colour follows the day" in page
    client.post(reverse("dashboard:light-adaptive-resume", kwargs={"light_id": white.pk}))
    white.refresh_from_db()
    assert not white.adaptive_paused_brightness
    client.force_login(owner)
    client.post(reverse("dashboard:light-adaptive", kwargs={"light_id": white.pk}), {"adaptive": "0"})
    white.refresh_from_db()
    assert not white.adaptive


def test_a_refused_switch_is_a_message(client: Client, setup: tuple) -> None:
    owner, _, home, _, _ = setup
    plain = Light.objects.get(name="Plain")
    client.force_login(owner)
    page = client.post(
        reverse("dashboard:light-adaptive", kwargs={"light_id": plain.pk}), {"adaptive": "1"}, follow=True
    ).content.decode()
    assert "on/off light cannot follow" in page


def test_settings_page_edits_the_profile(client: Client, setup: tuple) -> None:
    owner, _, home, _, _ = setup
    client.force_login(owner)
    url = reverse("dashboard:home-settings", kwargs={"home_id": home.pk})
    form = {
        "name": "Home",
        "timezone": "Europe/Berlin",
        "latitude": "52.52",
        "longitude": "13.405",
        "adaptive_min_brightness": "30",
        "adaptive_max_brightness": "250",
        "adaptive_min_kelvin": "2200",
        "adaptive_max_kelvin": "5000",
        "adaptive_sleep_brightness": "5",
        "adaptive_sleep_kelvin": "1900",
    }
    assert client.post(url, form).status_code == 302
    profile = profile_of(home=home)
    assert (profile.min_brightness, profile.max_kelvin, profile.sleep_brightness, profile.sleep_kelvin) == (
        30,
        5000,
        5,
        1900,
    )
    refused = client.post(url, {**form, "name": "Other", "adaptive_min_kelvin": "6000"})
    assert refused.status_code == 200 and "must not be above" in refused.content.decode()
    home.refresh_from_db()
    assert home.name == "Home"
    half_sleep = client.post(url, {**form, "adaptive_sleep_kelvin": ""})
    assert half_sleep.status_code == 200
