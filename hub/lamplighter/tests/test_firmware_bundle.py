"""`lamplighter firmware bundle`: compiled application, microdot, a template without secrets, a manifest."""

import hashlib
import json
from pathlib import Path

import pytest

from firmware.app import FIRMWARE_VERSION
from lamplighter.cli import main
from lamplighter.firmware_bundle import build_bundle


def test_bundle_contents(tmp_path: Path) -> None:
    output = tmp_path / "bundle"
    (output / "stale").mkdir(parents=True)  # an old build is replaced, not merged
    manifest = build_bundle(output)
    assert manifest["version"] == FIRMWARE_VERSION and "mpy" in manifest["mpy_cross"].lower()
    files = manifest["files"]
    for name in ("boot.py", "main.py", "firmware/app.mpy", "firmware/protocol.mpy", "firmware/hal/esp32.mpy"):
        assert name in files, name
    assert "lib/microdot/microdot.mpy" in files and "lib/microdot/__init__.mpy" in files
    assert not any(name.endswith(".py") and name not in ("boot.py", "main.py") for name in files)
    assert not any("tests/" in name or "simulator" in name or "hal/host" in name for name in files)
    assert (output / "firmware" / "app.mpy").read_bytes()[:1] == b"M"  # the .mpy magic
    assert not (output / "stale").exists()
    for name, entry in files.items():
        data = (output / name).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    template = json.loads((output / "config.template.json").read_text())
    assert "secret" not in template and "device_id" not in template
    assert template["wifi"]["power_save"] is False


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["firmware", "bundle", "--output", str(tmp_path / "out")]) == 0
    assert "firmware " + FIRMWARE_VERSION in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["files"]
