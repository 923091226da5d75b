"""Power lost mid-write: a real `lamplighter device` process is killed while it writes the image.

The download is stalled by a proxy after some blocks are on flash, the process gets SIGKILL
(no clean-up of any kind), and the device started again boots its old image.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client, free_port
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device
from lamplighter.ota.models import Job
from lamplighter.ota.tests import helpers
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "ota-power-loss-secret"  # noqa: S105 - test fixture
LAMPLIGHTER = str(Path(sys.executable).with_name("lamplighter"))


def start_process(config_path: Path, data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            LAMPLIGHTER,
            "device",
            "--config",
            str(config_path),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )


def test_power_lost_mid_write_boots_the_old_image(live_hub: LiveHub, tmp_path: Path, settings: Any) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    settings.LAMPLIGHTER_OTA_TICK = 0.2
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    LightFactory(room=room, name="Ceiling", device=device)
    proxy = helpers.CuttingProxy(live_hub.port, cut_after=300_000, stall=True)
    port = free_port()
    data_dir = tmp_path / "data"
    flash = data_dir / "devices" / device.device_id
    helpers.give_key(flash)
    config_path = tmp_path / "device.json"
    config_path.write_text(
        json.dumps(
            {
                "device_id": device.device_id,
                "secret": SECRET,
                "hubs": [proxy.url],
                "web": {"host": "127.0.0.1", "port": port},
                "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
            }
        )
    )
    process = start_process(config_path, data_dir)
    try:
        wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 20, "the WebSocket")
        with api_client(live_hub, owner) as client:
            artifact = helpers.upload(client, helpers.image(1_000_000), "0.2.0")
            rollout = helpers.start_rollout(client, artifact, [device.pk])
            # Progress reports every 64 KB: wait until several blocks are on flash, then pull the plug.
            wait_for(
                lambda: Job.objects.get(rollout_id=rollout).received >= 196_608,
                20,
                "part of the image written",
            )
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            slot = flash / "ota" / "slot1.bin"
            assert 0 < slot.stat().st_size < 1_000_000  # a partial image in the inactive slot
            assert client.post(f"/api/v1/firmware/rollouts/{rollout}/cancel").status_code == 200
        process = start_process(config_path, data_dir)
        status_url = f"http://127.0.0.1:{port}/status"

        def booted() -> dict | None:
            try:
                return httpx.get(status_url, auth=(device.device_id, SECRET), timeout=2).json()
            except httpx.HTTPError:
                return None

        status = wait_for(booted, 20, "the device to boot again")
        assert status["firmware_version"] == "0.1.0" and status["boot_slot"] == 0
        wait_for(lambda: (booted() or {}).get("hub", {}).get("connected"), 20, "the hub link")
        time.sleep(0.5)
        assert booted()["boot_slot"] == 0
    finally:
        process.kill()
        process.wait(10)
        proxy.close()
