"""Dashboard pages for scenes, schedules and home settings: who may do what, and errors as form errors."""

from datetime import UTC, datetime, time

import pytest
from django.test import Client
from django.urls import reverse

from factories import DEFAULT_TEST_PASSWORD, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.automations.models import Scene, SceneLight, Schedule
from lamplighter.automations.services import ScheduleSpec, scene_create, schedule_create
from lamplighter.homes.models import Home
from lamplighter.lights.models import Light

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():  # type: ignore[no-untyped-def]
    return UserFactory()


@pytest.fixture
def home(owner):  # type: ignore[no-untyped-def]
    return HomeFactory(owner=owner, name="Maple Street", timezone="Europe/Paris")


@pytest.fixture
def lights(home):  # type: ignore[no-untyped-def]
    kitchen = RoomFactory(home=home, name="Kitchen")
    hall = RoomFactory(home=home, name="Hall")
    return LightFactory(room=kitchen, name="Ceiling"), LightFactory(room=hall, name="Porch")


@pytest.fixture
def scene(home, lights):  # type: ignore[no-untyped-def]
    ceiling, porch = lights
    return scene_create(home=home, name="Evening", lights=[(ceiling.pk, True), (porch.pk, False)])


@pytest.fixture
def schedule(home, lights):  # type: ignore[no-untyped-def]
    spec = ScheduleSpec(name="Wake up", target="light", target_id=lights[0].pk, time_of_day=time(7, 15))
    return schedule_create(home=home, spec=spec)


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_TEST_PASSWORD)
    return client


def member_of(home) -> Client:  # type: ignore[no-untyped-def]
    member = UserFactory()
    home.memberships.create(user=member, role="member")
    return logged_in(member)


# ---- who may do what ---------------------------------------------------------------------------


def owner_only_urls(home, scene, schedule) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        reverse("dashboard:home-settings", args=[home.pk]),
        reverse("dashboard:scene-create", args=[home.pk]),
        reverse("dashboard:scene-edit", args=[scene.pk]),
        reverse("dashboard:scene-delete", args=[scene.pk]),
        reverse("dashboard:schedule-create", args=[home.pk]),
        reverse("dashboard:schedule-edit", args=[schedule.pk]),
        reverse("dashboard:schedule-delete", args=[schedule.pk]),
    ]


def test_pages_need_a_login(home, scene, schedule) -> None:  # type: ignore[no-untyped-def]
    for url in [
        reverse("dashboard:scenes", args=[home.pk]),
        reverse("dashboard:schedules", args=[home.pk]),
        *owner_only_urls(home, scene, schedule),
    ]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    assert Client().post(reverse("dashboard:scene-apply", args=[scene.pk])).status_code == 302


def test_strangers_get_404_everywhere(home, scene, schedule) -> None:  # type: ignore[no-untyped-def]
    stranger = logged_in(UserFactory())
    versions = list(Light.objects.order_by("pk").values_list("desired_version", flat=True))
    urls = [
        reverse("dashboard:scenes", args=[home.pk]),
        reverse("dashboard:schedules", args=[home.pk]),
        reverse("dashboard:scene-apply", args=[scene.pk]),
        *owner_only_urls(home, scene, schedule),
    ]
    for url in urls:
        assert stranger.post(url, {"name": "Hacked"}).status_code == 404, url
        if not url.endswith("/apply/"):
            assert stranger.get(url).status_code == 404, url
    assert Scene.objects.get(pk=scene.pk).name == "Evening"
    assert Schedule.objects.get(pk=schedule.pk).name == "Wake up"
    assert Home.objects.get(pk=home.pk).name == "Maple Street"
    assert list(Light.objects.order_by("pk").values_list("desired_version", flat=True)) == versions


def test_members_see_and_apply_but_do_not_manage(home, scene, schedule, lights) -> None:  # type: ignore[no-untyped-def]
    client = member_of(home)
    page = client.get(reverse("dashboard:scenes", args=[home.pk])).content.decode()
    assert "Evening" in page and "Kitchen · Ceiling: on" in page and "Hall · Porch: off" in page
    assert "Apply" in page and "New scene" not in page and "Edit" not in page
    schedules_page = client.get(reverse("dashboard:schedules", args=[home.pk])).content.decode()
    assert "Wake up" in schedules_page and "New schedule" not in schedules_page
    for url in owner_only_urls(home, scene, schedule):
        assert client.get(url).status_code == 403, url
        response = client.post(url, {"name": "Hacked", "timezone": "UTC"})
        assert response.status_code == 403 and b"Only an owner" in response.content, url
    assert Scene.objects.get(pk=scene.pk).name == "Evening"
    assert Schedule.objects.get(pk=schedule.pk).name == "Wake up"
    assert Home.objects.get(pk=home.pk).name == "Maple Street"

    # Applying is for every member: each light is asked for the scene's state (pending until confirmed).
    home_url = reverse("dashboard:home", args=[home.pk])
    response = client.post(reverse("dashboard:scene-apply", args=[scene.pk]), {"next": home_url})
    assert response.status_code == 302 and response["Location"] == home_url
    ceiling, porch = (Light.objects.get(pk=light.pk) for light in lights)
    assert (ceiling.desired_on, ceiling.desired_version) == (True, lights[0].desired_version + 1)
    assert (porch.desired_on, porch.desired_version) == (False, lights[1].desired_version + 1)
    assert "Evening applied" in client.get(home_url).content.decode()


def test_apply_needs_a_post_and_never_redirects_elsewhere(home, scene) -> None:  # type: ignore[no-untyped-def]
    client = member_of(home)
    url = reverse("dashboard:scene-apply", args=[scene.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard:scenes", args=[home.pk])


def test_home_page_links_the_new_pages_and_offers_scenes(owner, home, scene) -> None:  # type: ignore[no-untyped-def]
    content = logged_in(owner).get(reverse("dashboard:home", args=[home.pk])).content.decode()
    for name in ("scenes", "schedules", "home-settings"):
        assert reverse(f"dashboard:{name}", args=[home.pk]) in content, name
    assert reverse("dashboard:scene-apply", args=[scene.pk]) in content and "Apply Evening" in content
    member_page = member_of(home).get(reverse("dashboard:home", args=[home.pk])).content.decode()
    assert reverse("dashboard:home-settings", args=[home.pk]) not in member_page
    assert reverse("dashboard:scenes", args=[home.pk]) in member_page


# ---- scenes ------------------------------------------------------------------------------------


def test_owner_creates_edits_and_deletes_a_scene(owner, home, lights) -> None:  # type: ignore[no-untyped-def]
    ceiling, porch = lights
    client = logged_in(owner)
    form = client.get(reverse("dashboard:scene-create", args=[home.pk])).content.decode()
    assert "Kitchen · Ceiling" in form and "Hall · Porch" in form
    response = client.post(
        reverse("dashboard:scene-create", args=[home.pk]),
        {"name": "Movie", f"light_{ceiling.pk}": "off", f"light_{porch.pk}": ""},
    )
    assert response.status_code == 302
    scene = Scene.objects.get(home=home, name="Movie")
    assert list(scene.entries.values_list("light_id", "on")) == [(ceiling.pk, False)]

    edit_url = reverse("dashboard:scene-edit", args=[scene.pk])
    assert 'value="off" selected' in client.get(edit_url).content.decode()
    response = client.post(edit_url, {"name": "Cinema", f"light_{porch.pk}": "on"})
    assert response.status_code == 302
    scene.refresh_from_db()
    assert scene.name == "Cinema"
    assert list(scene.entries.values_list("light_id", "on")) == [(porch.pk, True)]

    delete_url = reverse("dashboard:scene-delete", args=[scene.pk])
    assert b"Delete the scene Cinema" in client.get(delete_url).content
    assert Scene.objects.filter(pk=scene.pk).exists()
    assert client.post(delete_url).status_code == 302
    assert not Scene.objects.filter(pk=scene.pk).exists()


def test_bad_scene_input_shows_form_errors(owner, home, lights, scene) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    url = reverse("dashboard:scene-create", args=[home.pk])
    duplicate = client.post(url, {"name": "Evening"})
    assert duplicate.status_code == 200 and "already exists in this home" in duplicate.content.decode()
    blank = client.post(url, {"name": "  "})
    assert blank.status_code == 200 and b"This field is required" in blank.content
    bad_state = client.post(url, {"name": "Odd", f"light_{lights[0].pk}": "dim"})
    assert bad_state.status_code == 200 and b"Select a valid choice" in bad_state.content
    foreign = LightFactory(room=RoomFactory(home=HomeFactory(owner=owner)))
    smuggled = client.post(url, {"name": "Sneaky", f"light_{foreign.pk}": "on"})
    assert smuggled.status_code == 302  # an unknown field is ignored, never added
    assert not SceneLight.objects.filter(light=foreign).exists()
    assert Scene.objects.filter(home=home).count() == 2


# ---- schedules ---------------------------------------------------------------------------------


def test_schedule_list_shows_the_next_run_on_the_homes_clock(owner, home, schedule) -> None:  # type: ignore[no-untyped-def]
    response = logged_in(owner).get(reverse("dashboard:schedules", args=[home.pk]))
    content = response.content.decode()
    assert "Wake up" in content and "Kitchen · Ceiling on" in content and "07:15" in content
    assert "Europe/Paris" in content and "Every day" in content
    [row] = response.context["rows"]
    next_at = row["next_at"]
    assert next_at is not None and next_at.tzinfo is not None
    # Shown as 07:15 on the home's clock (UTC+1 or +2), whatever the server's zone.
    assert next_at.astimezone(UTC).hour in (5, 6)
    assert f'datetime="{next_at.isoformat()}" data-home-clock>' in content
    assert ", 07:15</time>" in content


def test_owner_creates_edits_and_deletes_a_schedule(owner, home, lights, scene) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    form = client.get(reverse("dashboard:schedule-create", args=[home.pk])).content.decode()
    assert f'value="scene:{scene.pk}"' in form and f'value="light:{lights[0].pk}"' in form
    response = client.post(
        reverse("dashboard:schedule-create", args=[home.pk]),
        {
            "name": "Evening on",
            "enabled": "on",
            "target": f"scene:{scene.pk}",
            "action": "on",
            "trigger": "time",
            "time_of_day": "19:30",
            "weekdays": ["mon", "fri"],
        },
    )
    assert response.status_code == 302
    schedule = Schedule.objects.get(home=home, name="Evening on")
    assert (schedule.target, schedule.scene, schedule.time_of_day) == ("scene", scene, time(19, 30))
    assert schedule.weekdays == 0b10001

    edit_url = reverse("dashboard:schedule-edit", args=[schedule.pk])
    page = client.get(edit_url).content.decode()
    assert 'value="19:30"' in page and f'value="scene:{scene.pk}" selected' in page
    response = client.post(
        edit_url,
        {
            "name": "Porch off",
            "target": f"light:{lights[1].pk}",
            "action": "off",
            "trigger": "time",
            "time_of_day": "23:00",
            "weekdays": ["sat", "sun"],
        },
    )
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.enabled, schedule.light, schedule.action) == (
        "Porch off",
        False,
        lights[1],
        "off",
    )
    listing = client.get(reverse("dashboard:schedules", args=[home.pk])).content.decode()
    assert "Sat, Sun" in listing and "disabled" in listing

    delete_url = reverse("dashboard:schedule-delete", args=[schedule.pk])
    assert client.get(delete_url).status_code == 200 and Schedule.objects.filter(pk=schedule.pk).exists()
    assert client.post(delete_url).status_code == 302
    assert not Schedule.objects.filter(pk=schedule.pk).exists()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"time_of_day": ""}, "needs a time"),
        ({"trigger": "sunset"}, "latitude and longitude"),
        ({"weekdays": []}, "choose at least one weekday"),
        ({"target": "light:999999"}, "Select a valid choice"),
        ({"time_of_day": "25:99"}, "Enter a valid time"),
        ({"offset_minutes": "lots"}, "Enter a whole number"),
        ({"name": "Wake up"}, "already exists in this home"),
    ],
)
def test_bad_schedule_input_shows_form_errors(owner, home, lights, schedule, change, error) -> None:  # type: ignore[no-untyped-def]
    data = {
        "name": "Another",
        "target": f"light:{lights[0].pk}",
        "action": "on",
        "trigger": "time",
        "time_of_day": "08:00",
        "weekdays": ["mon"],
    }
    data.update(change)
    response = logged_in(owner).post(reverse("dashboard:schedule-create", args=[home.pk]), data)
    assert response.status_code == 200 and error in response.content.decode()
    assert Schedule.objects.filter(home=home).count() == 1


def test_sun_schedules_work_once_the_home_has_a_place(owner, home, lights) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    response = client.post(
        reverse("dashboard:home-settings", args=[home.pk]),
        {"name": "Maple Street", "timezone": "Europe/Paris", "latitude": "48.85", "longitude": "2.35"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("dashboard:schedule-create", args=[home.pk]),
        {
            "name": "Dusk",
            "enabled": "on",
            "target": f"room:{lights[0].room_id}",
            "action": "on",
            "trigger": "sunset",
            "offset_minutes": "-20",
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        },
    )
    assert response.status_code == 302
    listing = client.get(reverse("dashboard:schedules", args=[home.pk])).content.decode()
    assert "Sunset -20 min" in listing and "Kitchen on" in listing


# ---- home settings -----------------------------------------------------------------------------


def test_owner_changes_name_zone_and_place(owner, home) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(owner)
    url = reverse("dashboard:home-settings", args=[home.pk])
    page = client.get(url).content.decode()
    assert '<option value="Europe/Paris" selected>' in page and '<option value="America/New_York">' in page
    response = client.post(
        url, {"name": "Elm Street", "timezone": "Europe/Berlin", "latitude": "52.52", "longitude": "13.4"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home", args=[home.pk])
    home.refresh_from_db()
    assert (home.name, home.timezone, home.latitude, home.longitude) == (
        "Elm Street",
        "Europe/Berlin",
        52.52,
        13.4,
    )
    # Both coordinates empty: the place is forgotten.
    assert client.post(url, {"name": "Elm Street", "timezone": "UTC"}).status_code == 302
    home.refresh_from_db()
    assert (home.timezone, home.latitude, home.longitude) == ("UTC", None, None)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"timezone": "Mars/Olympus"}, "Select a valid choice"),
        ({"latitude": "48.85", "longitude": ""}, "give both latitude and longitude"),
        ({"latitude": "123", "longitude": "2"}, "latitude must be within -90..90"),
        ({"latitude": "north"}, "Enter a number"),
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 65}, "at most 64 characters"),
    ],
)
def test_bad_settings_show_form_errors(owner, home, change, error) -> None:  # type: ignore[no-untyped-def]
    data = {"name": "Elm Street", "timezone": "Europe/Berlin", "latitude": "52.5", "longitude": "13.4"}
    data.update(change)
    response = logged_in(owner).post(reverse("dashboard:home-settings", args=[home.pk]), data)
    assert response.status_code == 200 and error in response.content.decode()
    home.refresh_from_db()
    assert (home.name, home.timezone, home.latitude) == ("Maple Street", "Europe/Paris", None)


def test_next_run_is_none_for_a_disabled_schedule(home, lights) -> None:  # type: ignore[no-untyped-def]
    from lamplighter.automations.selectors import schedule_next_at

    spec = ScheduleSpec(
        name="Off", target="light", target_id=lights[0].pk, time_of_day=time(7, 0), enabled=False
    )
    schedule = schedule_create(home=home, spec=spec)
    assert schedule_next_at(schedule, now=datetime(2026, 1, 5, tzinfo=UTC)) is None
