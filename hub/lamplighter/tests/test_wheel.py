"""The package as a user installs it: a wheel built from the repository, in a clean venv, runs the demo."""

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from lamplighter.cli.tests.test_demo import DEVICE_LINE, running_demo
from simulated import wait_for

REPOSITORY = Path(__file__).resolve().parents[3]
LOCAL_ONLY = (".git", ".venv", "build", "dist", "var", "node_modules", "*.egg-info", "__pycache__")

pytestmark = pytest.mark.timeout(600)


def test_the_wheel_installs_alone_in_a_clean_venv_and_runs_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: an in-tree build could pick up a stale build/ folder
    shutil.copytree(REPOSITORY, source, ignore=shutil.ignore_patterns(*LOCAL_ONLY))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
    )
    (wheel,) = wheels.glob("lamplighter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"lamplighter"}, top_level
    assert "lamplighter/firmware/protocol/__init__.py" in names  # the device protocol the hub imports
    assert "lamplighter/firmware/protocol/hub.py" in names
    assert "lamplighter/dashboard/templates/dashboard/base.html" in names
    assert not [name for name in names if "/tests/" in name]

    clean = tmp_path / "venv"
    venv.create(clean, with_pip=True)
    subprocess.run([clean / "bin" / "pip", "install", "-q", str(wheel)], check=True)
    work = tmp_path / "elsewhere"  # not the repository: nothing may come from its sources
    work.mkdir()
    env = {"PYTHONPATH": "", "HOME": str(tmp_path)}
    with running_demo(tmp_path / "data", devices=1, command=(str(clean / "bin" / "lamplighter"),), **env) as (
        demo,
        lines,
        _,
        port,
    ):
        device = DEVICE_LINE.fullmatch(lines[2])
        assert device, lines
        _, url, device_id, secret = device.groups()
        hub = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
        wait_for(lambda: _status(hub, "/login/") == 200, 60, "the hub installed from the wheel")
        assert _status(hub, "/static/dashboard/dashboard.css") == 200
        device_web = httpx.Client(base_url=url, auth=(device_id, secret), timeout=5)
        wait_for(
            lambda: _status(device_web, "/status") == 200, 60, "the simulated device installed from the wheel"
        )
        wait_for(lambda: device_web.get("/status").json()["hub"]["connected"], 60, "the device's hub link")
        origin = subprocess.run(
            [
                clean / "bin" / "python",
                "-c",
                "import lamplighter, lamplighter.firmware; print(lamplighter.__file__)",
            ],
            cwd=work,
            env=dict(os.environ, PYTHONPATH=""),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert str(clean) in origin
    assert demo.returncode == 0


def _status(client: httpx.Client, path: str) -> int:
    try:
        return client.get(path).status_code
    except httpx.HTTPError:
        return 0
