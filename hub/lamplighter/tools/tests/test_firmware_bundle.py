"""`lamplighter firmware bundle`: compiled application, microdot, a template without secrets, a manifest."""

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from lamplighter.cli.main import main
from lamplighter.firmware.app import FIRMWARE_VERSION
from lamplighter.tools.firmware_bundle import (
    MICRODOT_DIR,
    MICRODOT_UNUSED,
    BundleError,
    build_bundle,
    trim_module,
)


def test_bundle_contents(tmp_path: Path) -> None:
    output = tmp_path / "bundle"
    (output / "stale").mkdir(parents=True)  # an old build is replaced, not merged
    manifest = build_bundle(output)
    assert manifest["version"] == FIRMWARE_VERSION and "mpy" in manifest["mpy_cross"].lower()
    files = manifest["files"]
    for name in (
        "boot.py",
        "main.py",
        "app/firmware/app.mpy",
        "app/firmware/protocol/__init__.mpy",
        "app/firmware/hal/esp32.mpy",
        "app/firmware/hal/host.mpy",
    ):
        assert name in files, name
    assert "app/lib/microdot/microdot.mpy" in files and "app/lib/microdot/__init__.mpy" in files
    assert not any(name.endswith(".py") and name not in ("boot.py", "main.py") for name in files)
    assert not any("tests/" in name or "simulator" in name for name in files)
    assert "app/firmware/protocol/hub.mpy" not in files  # the protocol's hub half: never on a board
    assert (output / "app" / "firmware" / "app.mpy").read_bytes()[:1] == b"M"  # the .mpy magic
    # The ROMFS image holds every file of app/ as it is (MicroPython mounts it in the heap
    # benchmark, hub/lamplighter/firmware/tools/mpy/run.mjs, which fails when it is not a valid image).
    image = (output / "app.romfs").read_bytes()
    assert image[:3] == b"\xd2\xcd\x31"  # ROMFS magic
    app_files = [name for name in files if name.startswith("app/")]
    assert len(app_files) > 20
    for name in app_files:
        assert (output / name).read_bytes() in image, name
    assert not (output / "stale").exists()
    for name, entry in files.items():
        data = (output / name).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    template = json.loads((output / "config.template.json").read_text())
    assert "secret" not in template and "device_id" not in template
    assert template["wifi"]["power_save"] is False
    assert template["lan_url"].startswith("http://")


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["firmware", "bundle", "--output", str(tmp_path / "out")]) == 0
    assert "firmware " + FIRMWARE_VERSION in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["files"]


RUNNER = Path(__file__).resolve().parents[2] / "firmware" / "tools" / "mpy" / "run.mjs"


def test_the_romfs_image_mounts_and_runs_under_micropython(tmp_path: Path) -> None:
    """The bundle's app.romfs, given to MicroPython as its ROM partition, is mounted at /rom and
    every module imports from it, as does a device's start-up path (the ESP32 layer, the config,
    Device and an update offer); the heap runner fails otherwise. Needs the port that
    `make test` installs (npm ci in hub/lamplighter/firmware/tools/mpy)."""
    output = tmp_path / "bundle"
    build_bundle(output)
    result = subprocess.run(  # noqa: S603 - node and our own runner
        ["node", str(RUNNER), "heap", str(output)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("in a ROMFS partition" in line and "after importing" in line for line in lines), result.stdout
    assert any("steady state" in line for line in lines), result.stdout


def test_microdot_on_a_board_is_trimmed_to_what_the_firmware_uses() -> None:
    """The board's microdot has neither the unused parts (MICRODOT_UNUSED) nor the branches of
    its try-imports that MicroPython never takes; what the firmware calls is all still there."""
    source = trim_module(
        (MICRODOT_DIR / "microdot.py").read_text(), MICRODOT_UNUSED["microdot.py"], "microdot.py"
    )
    compile(source, "microdot.py", "exec")
    for gone in (
        "def set_cookie",
        "def send_file",
        "def mount",
        "def urlencode",
        "types_map",
        "orjson",
        "inspect",
    ):
        assert gone not in source, gone
    assert "Response.already_handled = Response()" not in source
    for kept in (
        "class Microdot",
        "def before_request",
        "def errorhandler",
        "def start_server",
        "def shutdown",
        "def form",
        "def stream",
        "async def invoke_handler",
        "from sys import print_exception",
        "import json",
    ):
        assert kept in source, kept
    init = trim_module(
        (MICRODOT_DIR / "__init__.py").read_text(), MICRODOT_UNUSED["__init__.py"], "__init__.py"
    )
    assert "import Microdot, Request, Response" in init and "abort" not in init


def test_a_name_missing_from_microdot_fails_the_build() -> None:
    """An upgrade that renames or drops a part the trim list names stops the build, to be looked at."""
    with pytest.raises(BundleError, match="no Response.gone"):
        trim_module("class Response:\n    def keep(self):\n        pass\n", ("Response.gone",), "microdot.py")
    with pytest.raises(BundleError, match="inspect"):
        trim_module("x = 1\n", ("x",), "microdot.py")  # the try-imports are gone too
    assert trim_module("x = 1\ny = 2\n", ("x",), "other.py") == "y = 2\n"
