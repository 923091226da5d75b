"""The check's hub data: the demo home (every light kind, three simulated devices), a scene, an API
token and a dashboard session; run in the hub's environment, prints what the check needs as JSON.

    LAMPLIGHTER_DATA_DIR=/tmp/x python home_assistant/seed.py --hub-url http://127.0.0.1:8123
"""

import argparse
import json
import os
import sys
from pathlib import Path


def seed(hub_url: str, data_dir: Path) -> dict:
    """Migrate, create the demo home and its devices' configs (one file per device), and credentials."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from lamplighter.accounts.services import api_token_create
    from lamplighter.automations.services import scene_create
    from lamplighter.cli.demo import demo_prepare, simulator_config
    from lamplighter.homes.models import Home
    from lamplighter.lights.models import Light

    call_command("migrate", verbosity=0, interactive=False)
    _, devices = demo_prepare(devices=3)
    home = Home.objects.get(name="Demo home")
    user = home.memberships.get().user
    _, token = api_token_create(user=user, name="home-assistant-check")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    lights = {f"{light.room.name}/{light.name}": light for light in Light.objects.select_related("room")}
    scene = scene_create(
        home=home,
        name="Evening",
        lights=[
            (lights["Kitchen/Ceiling"].pk, {"on": True, "brightness": 100, "color_temp_kelvin": 2700}),
            (lights["Kitchen/Counter strip"].pk, {"on": True, "brightness": 200, "rgb": [255, 120, 0]}),
            (lights["Living room/Ceiling"].pk, False),
        ],
    )
    device_configs = []
    for device, config in zip(devices, simulator_config(hub_url, devices), strict=True):
        path = data_dir / f"device-{device.name}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump([config], handle)
        device_configs.append(
            {
                "name": device.name,
                "device_id": device.device_id,
                "secret": device.secret,
                "url": device.url,
                "config": str(path),
            }
        )
    return {
        "token": token,
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "scene_id": scene.pk,
        "devices": device_configs,
        "lights": [
            {
                "id": light.pk,
                "key": key,
                "room": light.room.name,
                "name": light.name,
                "kind": light.kind,
                "device": light.device.name if light.device else None,
                "min_kelvin": light.min_kelvin,
                "max_kelvin": light.max_kelvin,
            }
            for key, light in sorted(lights.items())
        ],
    }


def main() -> int:
    """Parse the flags, seed, print the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-url", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    data_dir = Path(os.environ["LAMPLIGHTER_DATA_DIR"])
    json.dump(seed(args.hub_url, data_dir), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
