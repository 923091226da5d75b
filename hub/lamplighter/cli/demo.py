"""`lamplighter demo`: a demo home, the hub, and simulated devices, started in one go."""

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamplighter.tools.simulator import free_port

DEMO_USERNAME = "demo"
DEMO_HOME = "Demo home"
# Rooms and lights (name, kind) of the demo home, every kind among them; devices take the rooms in turn.
DEMO_ROOMS = {
    "Living room": [("Ceiling", "onoff"), ("Reading lamp", "dimmable")],
    "Kitchen": [("Ceiling", "tunable_white"), ("Counter strip", "rgb")],
    "Bedroom": [("Bedside", "dimmable")],
}


@dataclass
class DemoDevice:
    """A simulated device of the demo, with its credentials for this run."""

    name: str
    device_id: str
    secret: str
    port: int
    lights: list[tuple[str, str, str]]  # room, light, kind

    @property
    def url(self) -> str:
        """Its web server."""
        return f"http://127.0.0.1:{self.port}"


def demo_prepare(*, devices: int, password: str | None = None) -> tuple[str, list[DemoDevice]]:
    """Create (or refresh) the demo user, home and devices; return the password and the devices.

    Every run sets a new password (unless given) and new device secrets: none is stored in clear.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from lamplighter.devices.models import Device
    from lamplighter.devices.services import device_register, device_rotate_secret
    from lamplighter.homes.models import Home, Room
    from lamplighter.homes.services import home_create, room_create
    from lamplighter.lights.models import Light
    from lamplighter.lights.services import light_create, light_update

    password = password or secrets.token_urlsafe(12)
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.set_password(password)
        user.save()
        home = Home.objects.filter(name=DEMO_HOME, memberships__user=user).first() or home_create(
            name=DEMO_HOME, owner=user
        )
        rooms = []
        for room_name in DEMO_ROOMS:
            rooms.append(
                Room.objects.filter(home=home, name=room_name).first()
                or room_create(home=home, name=room_name)
            )
        demo_devices = []
        for index in range(devices):
            name = f"demo-{index + 1}"
            device = Device.objects.filter(home=home, name=name).first()
            if device is None:
                device, secret = device_register(home=home, name=name)
            else:
                secret = device_rotate_secret(device=device)
            room = rooms[index % len(rooms)]
            driven = []
            if index < len(rooms):
                for light_name, kind in DEMO_ROOMS[room.name]:
                    light = Light.objects.filter(room=room, name=light_name).first()
                    if light is None:
                        light_create(room=room, name=light_name, device=device, kind=kind)
                    elif light.device_id != device.pk or light.kind != kind:
                        light_update(light=light, name=light.name, room=room, device=device, kind=kind)
                    driven.append((room.name, light_name, kind))
            demo_devices.append(DemoDevice(name, device.device_id, secret, free_port(), driven))
    return password, demo_devices


def simulator_config(hub_url: str, devices: list[DemoDevice]) -> list[dict]:
    """The simulated devices' configs, as `lamplighter device --config` reads them."""
    return [
        {
            "device_id": device.device_id,
            "secret": device.secret,
            "name": device.name,
            "board": "host",
            "hubs": [hub_url],
            "web": {"host": "127.0.0.1", "port": device.port},
            "lan_url": device.url,
            "lights": _light_configs(device.lights),
        }
        for device in devices
    ]


def _light_configs(lights: list[tuple[str, str, str]]) -> list[dict]:
    """Each light with its kind and its output pins (one per channel), from pin 2 on."""
    from lamplighter.tools.simulator import light_config

    configs, pin = [], 2
    for room, light, kind in lights:
        config, pin = light_config(room, light, kind, pin)
        configs.append(config)
    return configs


def demo_main(argv: list[str]) -> int:
    """Parse the flags, prepare the demo, print how to reach it, and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="lamplighter demo", description="Run the hub with simulated devices."
    )
    parser.add_argument("--port", type=int, default=8000, help="hub port (default 8000)")
    parser.add_argument("--devices", type=int, default=3, help="simulated devices (default 3)")
    parser.add_argument(
        "--runtime",
        choices=("cpython", "micropython"),
        default="cpython",
        help="run the devices on CPython (default) or as the compiled bundle on MicroPython's unix port",
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    if not 0 <= args.devices <= 100:
        parser.error("--devices must be between 0 and 100")
    if args.runtime == "micropython":
        # Said here, not by the devices' process once the hub is up.
        from lamplighter.tools.firmware_bundle import BundleError
        from lamplighter.tools.micropython_devices import board_heap, micropython_command

        try:
            board_heap()
            micropython_command()
        except BundleError as error:
            parser.error(str(error))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from lamplighter.infra.migration_check import unknown_migrations

    newer = unknown_migrations(MigrationRecorder(connection).applied_migrations().keys())
    if newer:
        print(
            f"lamplighter demo: the database in {settings.DATA_DIR} was migrated by a newer Lamplighter "
            f"({', '.join(newer[:5])}); use that release, or another LAMPLIGHTER_DATA_DIR",
            file=sys.stderr,
        )
        return 2
    call_command("migrate", verbosity=0, interactive=False)
    password, devices = demo_prepare(
        devices=args.devices, password=os.environ.get("LAMPLIGHTER_DEMO_PASSWORD")
    )
    hub_url = f"http://127.0.0.1:{args.port}"
    config_path = Path(settings.DATA_DIR) / "demo-devices.json"
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(simulator_config(hub_url, devices), handle, indent=2)

    print(f"Dashboard: {hub_url}/")
    print(f"Login: {DEMO_USERNAME} {password}")
    for device in devices:
        print(f"Device {device.name}: {device.url} {device.device_id}:{device.secret}")
    sys.stdout.flush()

    simulator: list[subprocess.Popen] = []
    command = [
        sys.executable,
        "-m",
        "lamplighter.cli.main",
        "device",
        "--config",
        str(config_path),
        "--data-dir",
        str(settings.DATA_DIR),
        "--runtime",
        args.runtime,
    ]
    try:
        import uvicorn

        from lamplighter.serving.server import uvicorn_config

        server = uvicorn.Server(uvicorn_config("127.0.0.1", args.port))
        if devices:
            # The devices start once the hub listens: no "hub unreachable" on a first run.
            threading.Thread(
                target=_start_when_listening, args=(server, command, simulator), daemon=True
            ).start()
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown: that is the normal way out
    finally:
        for process in simulator:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


def _start_when_listening(server: Any, command: list[str], started: list[subprocess.Popen]) -> None:
    """Start the devices' process as soon as uvicorn says it listens (it gives up after a minute)."""
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or server.should_exit:
            return
        time.sleep(0.05)
    started.append(subprocess.Popen(command))  # noqa: S603 - our own interpreter and module
