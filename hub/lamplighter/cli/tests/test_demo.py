"""`lamplighter demo`: the contract lines, a live hub, devices that come online, a clean stop."""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import free_port
from lamplighter.cli.demo import demo_prepare, simulator_config
from lamplighter.devices.models import Device
from lamplighter.firmware import config as firmware_config
from lamplighter.lights.models import Light
from simulated import wait_for

DEVICE_LINE = re.compile(r"^Device (\S+): (http://127\.0\.0\.1:\d+) (dev-[0-9a-f]+):(\S+)$")


@pytest.mark.django_db
def test_prepare_is_repeatable_and_rotates_secrets() -> None:
    password, first = demo_prepare(devices=3)
    _, second = demo_prepare(devices=3)
    assert len(password) >= 12
    assert [d.device_id for d in first] == [d.device_id for d in second]
    assert all(a.secret != b.secret for a, b in zip(first, second, strict=True))
    assert Device.objects.count() == 3
    assert Light.objects.filter(device__isnull=False).count() == 5
    # Every kind of light, each with the outputs its kind needs in the simulated devices' config.
    assert set(Light.objects.values_list("kind", flat=True)) == {"onoff", "dimmable", "tunable_white", "rgb"}
    configs = simulator_config("http://127.0.0.1:1", second)
    for config in configs:
        firmware_config.validate(config)  # the firmware takes it as it is
    lights = {(item["room"], item["light"]): item for config in configs for item in config["lights"]}
    assert lights[("Kitchen", "Ceiling")]["kind"] == "tunable_white"
    assert set(lights[("Kitchen", "Ceiling")]["pins"]) == {"cold", "warm"}
    assert set(lights[("Kitchen", "Counter strip")]["pins"]) == {"r", "g", "b"}
    assert lights[("Living room", "Reading lamp")]["kind"] == "dimmable"


@contextmanager
def running_demo(
    tmp_path: Path,
    devices: int = 2,
    stderr: Any = subprocess.DEVNULL,
    command: tuple[str, ...] = (sys.executable, "-m", "lamplighter.cli.main"),
    **env_extra: str,
) -> Iterator[tuple[subprocess.Popen[str], list[str], dict[str, str], int]]:
    """`lamplighter demo` in its own data dir: (process, contract lines, env, port); Ctrl-C on leaving."""
    port = free_port()
    env = dict(os.environ, LAMPLIGHTER_DATA_DIR=str(tmp_path), **env_extra)
    env.pop("LAMPLIGHTER_DEMO_PASSWORD", None)
    demo = subprocess.Popen(
        [*command, "demo", "--port", str(port), "--devices", str(devices)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        assert demo.stdout is not None
        yield demo, [demo.stdout.readline().rstrip("\n") for _ in range(2 + devices)], env, port
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=20)
        finally:
            if demo.poll() is None:
                demo.kill()


def test_demo_serves_and_stops_cleanly(tmp_path: Path) -> None:
    with running_demo(tmp_path, devices=2, LAMPLIGHTER_HEARTBEAT_INTERVAL="2") as (demo, lines, env, port):
        assert lines[0] == f"Dashboard: http://127.0.0.1:{port}/"
        login = re.fullmatch(r"Login: (\S+) (\S+)", lines[1])
        assert login and login.group(1) == "demo"
        devices = [DEVICE_LINE.fullmatch(line) for line in lines[2:]]
        assert all(devices), lines

        hub = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        wait_for(lambda: _get(hub, "/login/") == 200, 30, "the hub")
        token = subprocess.run(
            [sys.executable, "-m", "lamplighter.cli.main", "token", "create", "demo"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        hub.headers["Authorization"] = f"Bearer {token}"
        wait_for(lambda: all(d["online"] for d in hub.get("/api/v1/devices").json()), 30, "devices online")

        name, url, device_id, secret = devices[0].groups()  # type: ignore[union-attr]
        status = httpx.get(url + "/status", auth=(device_id, secret), timeout=5)
        assert status.status_code == 200
        assert httpx.get(url + "/status", timeout=5).status_code == 401
        light = next(light for light in hub.get("/api/v1/lights").json() if light["device"] == device_id)
        assert hub.post(f"/api/v1/lights/{light['id']}/state", json={"on": True}).status_code == 202
        wait_for(
            lambda: hub.get(f"/api/v1/lights/{light['id']}").json()["reported_on"] is True,
            10,
            "the device's report",
        )
        on_device = httpx.get(url + "/status", auth=(device_id, secret), timeout=5).json()["lights"]
        assert {"room": light["room"], "light": light["name"], "on": True}.items() <= next(
            entry for entry in on_device if entry["light"] == light["name"] and entry["room"] == light["room"]
        ).items()
        # The two devices drive every kind; each device announced what it drives.
        lights = hub.get("/api/v1/lights").json()
        assert {light["kind"] for light in lights if light["device"]} == {
            "onoff",
            "dimmable",
            "tunable_white",
            "rgb",
        }
        wait_for(
            lambda: all(
                light["device_kind"] == light["kind"]
                for light in hub.get("/api/v1/lights").json()
                if light["device"]
            ),
            10,
            "the devices' hellos",
        )
        strip = next(light for light in lights if light["kind"] == "rgb")
        answer = hub.post(f"/api/v1/lights/{strip['id']}/state", json={"on": True, "rgb": [0, 0, 255]})
        assert answer.status_code == 202
        wait_for(
            lambda: hub.get(f"/api/v1/lights/{strip['id']}").json()["reported_rgb"] == [0, 0, 255],
            10,
            "the colour's report",
        )
    assert demo.returncode == 0


def _get(client: httpx.Client, path: str) -> int:
    try:
        return client.get(path).status_code
    except httpx.HTTPError:
        return 0


def test_demo_says_a_bad_device_heap_before_it_starts(tmp_path: Path) -> None:
    env = {**os.environ, "LAMPLIGHTER_DATA_DIR": str(tmp_path), "LAMPLIGHTER_DEVICE_HEAP": "lots"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lamplighter.cli.main",
            "demo",
            "--runtime",
            "micropython",
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "LAMPLIGHTER_DEVICE_HEAP must be a positive number of bytes, got 'lots'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Dashboard:" not in result.stdout  # nothing served
