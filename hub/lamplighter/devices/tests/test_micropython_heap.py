"""The MicroPython device gets exactly a board's heap: what the unix port needs beside the
firmware (its ROMFS image, the entry, the bench's control port) is measured and counted apart,
and the allowance it leaves unused is held, so a test never runs the firmware on more heap than
an ESP32 has, nor on less (docs/firmware.md, "On MicroPython's unix port")."""

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from lamplighter.firmware import config as config_module
from lamplighter.tools.firmware_bundle import BundleError
from lamplighter.tools.micropython_devices import Runtime, firmware_heap, prepare_runtime
from lamplighter.tools.simulator import free_port
from simulated import MicroPythonDevice, wait_for

SECRET = "micropython-heap-secret-0123"  # noqa: S105 - test fixture
DEVICE_ID = "dev-heap0001"
# The held rest is rounded to the unix port's 32-byte blocks.
SLACK = 64


def device_config() -> dict[str, Any]:
    return {
        "device_id": DEVICE_ID,
        "secret": SECRET,
        "hubs": [],
        "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    }


def status_of(device: MicroPythonDevice) -> dict | None:
    try:
        return httpx.get(device.url + "/status", auth=(DEVICE_ID, SECRET), timeout=5).json()
    except httpx.HTTPError:
        return None


def test_the_firmware_gets_the_boards_heap_exactly(micropython_runtime: Runtime, tmp_path: Path) -> None:
    device = MicroPythonDevice(tmp_path / DEVICE_ID, micropython_runtime, **device_config()).start()
    try:
        status = wait_for(lambda: status_of(device), 15, "the device's /status")
        assert status["runtime"] == "micropython"
        held = status["heap"]["free"] + status["heap"]["allocated"]
        board = firmware_heap()
        assert board - SLACK <= held <= board + SLACK, (held, board)
    finally:
        device.stop()


def test_a_host_share_over_its_allowance_is_refused(
    micropython_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control port (~5 KB) with no allowance for it: the entry says so and does not start the
    # firmware on heap a board would not have.
    monkeypatch.setattr("lamplighter.tools.micropython_devices.CONTROL_ALLOWANCE", 0)
    flash = tmp_path / DEVICE_ID
    flash.mkdir()
    raw = {"board": "host", "web": {"host": "127.0.0.1", "port": free_port()}, **device_config()}
    config_module.save(str(flash), config_module.validate(raw))
    result = subprocess.run(  # noqa: S603 - the unix port on our bundle
        micropython_runtime.command(control=True),
        env=micropython_runtime.environment(flash, control_port=free_port()),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "under the board's" in result.stdout, result.stdout


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_a_bad_device_heap_setting_is_a_clear_error(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMPLIGHTER_DEVICE_HEAP", value)
    with pytest.raises(BundleError, match="LAMPLIGHTER_DEVICE_HEAP must be a positive number of bytes"):
        prepare_runtime(tmp_path / "runtime")
    assert not (tmp_path / "runtime" / "bundle").exists()  # said before anything is built
