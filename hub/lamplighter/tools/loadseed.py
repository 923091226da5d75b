"""Load-test data: one home with N devices (one light each), an owner with an API token and a session.

Used by the scale tests and the benchmarks, against whatever database the environment names:
`python -m lamplighter.tools.loadseed --devices 1000` prints the credentials as JSON.
Bulk inserts, so 10,000 devices take seconds. Never used by a running hub.
"""

import argparse
import json
import os
import sys
from typing import Any


def seed_load(*, devices: int, prefix: str = "load", kind: str = "onoff") -> dict[str, Any]:
    """Create the home and its devices, each light of this kind; return everything a load client needs."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from lamplighter.accounts.services import api_token_create
    from lamplighter.devices.models import Device
    from lamplighter.homes.models import Home, Membership, Room
    from lamplighter.infra.secret_hashing import new_secret, secret_hash
    from lamplighter.lights import state as light_state
    from lamplighter.lights.models import Light

    with transaction.atomic():
        user = User.objects.create_user(username=f"{prefix}-owner", password=new_secret())
        home = Home.objects.create(name=f"{prefix} home")
        Membership.objects.create(home=home, user=user, role=Membership.Role.OWNER)
        secrets = [new_secret() for _ in range(devices)]
        created = Device.objects.bulk_create(
            Device(home=home, name=f"{prefix}-{i}", device_id=f"{prefix}-{i:05d}", secret_hash=secret_hash(s))
            for i, s in enumerate(secrets)
        )
        rooms = Room.objects.bulk_create(
            Room(home=home, name=f"Room {i // 100}") for i in range(0, devices, 100)
        )
        lights = []
        for i, device in enumerate(created):
            light = Light(room=rooms[i // 100], name=f"Light {i}", device=device, kind=kind)
            light_state.set_desired(
                light, light_state.default_state(kind, light.min_kelvin, light.max_kelvin)
            )
            lights.append(light)
        lights = Light.objects.bulk_create(lights)
        _, token = api_token_create(user=user, name="load")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {
        "home_id": home.pk,
        "token": token,
        "session_cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "devices": [
            {
                "device_id": device.device_id,
                "secret": secret,
                "light_id": light.pk,
                "room": light.room.name,
                "light": light.name,
                "kind": light.kind,
            }
            for device, secret, light in zip(created, secrets, lights, strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Seed and print the result as JSON (to stdout or --out)."""
    parser = argparse.ArgumentParser(prog="python -m lamplighter.tools.loadseed")
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--prefix", default="load")
    parser.add_argument(
        "--kind", default="onoff", help="the lights' kind (onoff, dimmable, tunable_white, rgb)"
    )
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    import django

    django.setup()
    text = json.dumps(seed_load(devices=args.devices, prefix=args.prefix, kind=args.kind))
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
