"""Production settings pass Django's deployment checks; every browser form needs CSRF; GET never writes."""

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.firmware import protocol


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        LAMPLIGHTER_ENV="production",
        LAMPLIGHTER_DATA_DIR=str(tmp_path),
        LAMPLIGHTER_SECRET_KEY="a-production-key-" + "x" * 50,
        LAMPLIGHTER_ALLOWED_HOSTS="lights.example.org",
    )
    result = subprocess.run(
        [sys.executable, "-m", "lamplighter.cli.main", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_chain_without_the_security_middleware_is_reported(settings: object) -> None:
    from lamplighter.serving.middleware import check_security_middleware

    assert check_security_middleware() == []
    settings.MIDDLEWARE = [  # type: ignore[attr-defined]
        path
        for path in settings.MIDDLEWARE  # type: ignore[attr-defined]
        if not path.endswith(("SecurityMiddleware", "CsrfViewMiddleware"))
    ]
    assert [warning.id for warning in check_security_middleware()] == ["lamplighter.W001", "lamplighter.W003"]


DEVICE_ROUTES = tuple(
    path for name, path in vars(protocol).items() if name.startswith("HUB_") and name.endswith("_PATH")
)


def dashboard_routes() -> list[str]:
    """Every dashboard route (and login/logout), as a pattern string."""
    found: list[str] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(prefix + str(entry.pattern))

    walk(get_resolver().url_patterns, "")
    return [r for r in found if not r.startswith(("api/", "admin/", "static/")) and "<path" not in r]


def concrete(route: str, objects: dict[str, int]) -> str:
    for name, value in objects.items():
        route = route.replace(f"<int:{name}>", str(value))
    assert "<" not in route, f"no object for {route}: add it to the test"
    return "/" + route


@pytest.mark.django_db
def test_every_browser_form_needs_csrf_and_get_changes_nothing() -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner)
    room = RoomFactory(home=home)
    device = DeviceFactory(home=home)
    light = LightFactory(room=room, device=device)
    from lamplighter.automations.services import ScheduleSpec, scene_create, schedule_create

    scene = scene_create(home=home, name="s", lights=[(light.pk, True)])
    schedule = schedule_create(
        home=home, spec=ScheduleSpec(name="w", target="light", target_id=light.pk, time_of_day=time(7, 0))
    )
    from lamplighter.ota.models import Artifact, Rollout

    artifact = Artifact.objects.create(
        version="1.0.0", board="host", kind="image", size=4, sha256="0" * 64, manifest="{}", file_name="none"
    )
    job = Rollout.objects.create(artifact=artifact).jobs.create(device=device)
    objects = {
        "job_id": job.pk,
        "artifact_id": artifact.pk,
        "rollout_id": job.rollout_id,
        "home_id": home.pk,
        "room_id": room.pk,
        "light_id": light.pk,
        "device_pk": device.pk,
        "scene_id": scene.pk,
        "schedule_id": schedule.pk,
    }
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    routes = dashboard_routes()
    assert len(routes) > 20
    counts = _row_counts()
    for route in routes:
        url = concrete(route, objects)
        assert browser.get(url).status_code < 500, url
        assert _row_counts() == counts, f"GET {url} changed the database"
        response = browser.post(url, {"name": "x", "on": "1"})
        # Device routes take no cookies (Basic auth or a pairing code) and refuse this body;
        # browser routes refuse a POST without the CSRF token.
        allowed = (400, 401, 403, 404, 405) if url.startswith(DEVICE_ROUTES) else (403, 405)
        assert response.status_code in allowed, (url, response.status_code)
        assert _row_counts() == counts, f"POST {url} without CSRF changed the database"


def _row_counts() -> dict[str, tuple]:
    from django.apps import apps

    return {
        model._meta.label: tuple(model.objects.order_by("pk").values_list("pk", flat=True))
        for model in apps.get_models()
        if model._meta.app_label in ("homes", "lights", "devices", "automations", "ota", "accounts")
    }
