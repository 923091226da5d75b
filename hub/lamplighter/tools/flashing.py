"""`lamplighter flash PORT [--config FILE]`: from a board running MicroPython to a light on the hub.

It checks --config first (JSON, the fields the firmware needs, the lights against the hub when
the hub answers), builds the bundle, asks the board (through mpremote) for its MicroPython
version, ROMFS partition and free heap, and puts the application where the board can hold it:
the ROMFS image into the partition, else the files onto the filesystem when the heap has room
for them, else nothing at all (a message naming ROMFS). Then boot.py, main.py and the config;
a soft reset; the console until the device joins its hub (or shows its setup network).
The board's config.json, state and update slots stay when no --config is given.
"""

import argparse
import base64
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamplighter.firmware import config as config_module
from lamplighter.firmware import protocol
from lamplighter.tools.firmware_bundle import APP_DIR, ROMFS_IMAGE, BundleError, build_bundle
from lamplighter.tools.micropython_devices import WORD_SIZE_SCALE

MIN_MICROPYTHON = (1, 25, 0)  # asyncio, WLAN.PM_NONE, ssl.SSLContext, ROMFS (docs/firmware.md)
# Free heap (32-bit board terms) a board needs for the application from its filesystem: its
# modules take about 120 KB once started and 144 KB all imported (docs/firmware.md, Memory), and
# a running device some 25 KB more. An ESP32 without PSRAM has about 100 KB; a PSRAM board MBs.
FILES_MIN_FREE = 176 * 1024
ROMFS_DOCS = 'docs/firmware.md, "Without PSRAM: the application in ROMFS"'
BOARDS = ("esp32", "m5core2")
# What an earlier install left on the filesystem that MicroPython would import before /rom.
STALE = ("firmware", "lib/microdot")
JOIN_TIMEOUT = 120.0
HUB_TIMEOUT = 5.0
PROBE_MARK = "LAMPLIGHTER-BOARD "
PROBE = (
    """import gc,os,sys,json
gc.collect()
r=0
try:
 import vfs
 if vfs.rom_ioctl(1)>0:
  d=vfs.rom_ioctl(2,0)
  r=d.ioctl(4,0)*d.ioctl(5,0) if hasattr(d,'ioctl') else len(d)
except Exception:
 pass
def ls(p):
 try:
  return os.listdir(p)
 except OSError:
  return []
print('%s'+json.dumps({'version':list(sys.implementation.version[:3]),'name':sys.implementation.name,\
'free':gc.mem_free(),'romfs':r,'wide':sys.maxsize>2**32,'root':ls('')}))
"""
    % PROBE_MARK
)
CLEAN = """import os
def rm(p):
 try:
  if os.stat(p)[0]&0x4000:
   for n in os.listdir(p):
    rm(p+'/'+n)
   os.rmdir(p)
  else:
   os.remove(p)
 except OSError:
  pass
""" + "".join(f"rm({path!r})\n" for path in STALE)
_JOINED = re.compile(r"connected to (\S+) over (\w+)")
_SETUP = re.compile(r"setup: join Wi-Fi (\S+) password (\S+),")
_REFUSED = "refused the device credentials"
_FATAL = "fatal: "


class FlashError(RuntimeError):
    """The board was not flashed, or did not come up; the message says why."""


@dataclass
class Board:
    """What the board said about itself."""

    version: tuple[int, ...]
    free: int
    romfs: int
    wide: bool
    root: list[str]

    def files_need(self) -> int:
        """Free heap the application from files needs on this board (64-bit: the same objects are larger)."""
        return int(FILES_MIN_FREE * (WORD_SIZE_SCALE if self.wide else 1))


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


def check_config(path: Path, hub_timeout: float = HUB_TIMEOUT) -> tuple[dict[str, Any], list[str]]:
    """The config file's JSON and notes, once it is one a board can run; FlashError with the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlashError(f"{path}: cannot be read: {error}") from None
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise FlashError(f"{path}: not valid JSON: {error}") from None
    try:
        config = config_module.validate(raw)
    except config_module.ConfigError as error:
        raise FlashError(f"{path}: {error}") from None
    if config["board"] not in BOARDS:
        raise FlashError(f'{path}: "board" must be one of {", ".join(BOARDS)} on a board')
    wifi = config["wifi"] or {}
    if _placeholder(wifi.get("ssid")) or _placeholder(wifi.get("password")):
        raise FlashError(f"{path}: replace the Wi-Fi placeholders with your network's name and password")
    return raw, _check_lights(config, hub_timeout)


def _check_lights(config: dict[str, Any], timeout: float) -> list[str]:
    """The config's lights against the hub's list for this device; notes when the hub cannot be asked."""
    url = config["hubs"][0].rstrip("/") + protocol.HUB_POLL_PATH
    token = base64.b64encode(f"{config['device_id']}:{config['secret']}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": "Basic " + token})  # noqa: S310 - http(s) hub URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - checked by validate
            body = answer.read()
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise FlashError(f"the hub at {config['hubs'][0]} refuses this device_id and secret") from None
        return [f"lights not checked: the hub answered {error.code}"]
    except (OSError, ValueError) as error:
        return [f"lights not checked: the hub at {config['hubs'][0]} cannot be asked ({error})"]
    try:
        message = protocol.parse(body, (protocol.HUB_WELCOME, protocol.STATE_SET))
    except protocol.ProtocolError as error:
        return [f"lights not checked: the hub's answer is not understood ({error})"]
    on_hub = {(item["room"], item["light"]) for item in message["data"]["lights"]}
    configured = {(item["room"], item["light"]) for item in config["lights"]}
    unknown = sorted(configured - on_hub)
    if unknown:
        names = ", ".join(f"{room}/{light}" for room, light in unknown)
        raise FlashError(
            f"these lights are not the device's on the hub: {names} "
            "(give them to the device in the dashboard, or fix room and light names)"
        )
    missing = sorted(on_hub - configured)
    notes = ["lights checked against the hub"]
    if missing:
        notes.append(
            "the hub also gives this device "
            + ", ".join(f"{r}/{li}" for r, li in missing)
            + ", which the config does not drive"
        )
    return notes


def _mpremote(port: str, *args: str, timeout: float = 300) -> str:
    """Run mpremote on the board; its output, or FlashError with what it said."""
    command = [sys.executable, "-m", "mpremote", "connect", port, *args]
    try:
        result = subprocess.run(  # noqa: S603 - mpremote from this environment
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise FlashError(f"mpremote did not finish within {int(timeout)} s ({' '.join(args[:2])})") from None
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise FlashError(f"mpremote failed ({' '.join(args[:2])}): {said[-1] if said else result.returncode}")
    return result.stdout


def probe(port: str) -> Board:
    """Ask the board (after a soft reset, so its heap is fresh) what it runs and has."""
    output = _mpremote(port, "exec", PROBE, timeout=60)
    for line in output.splitlines():
        if line.startswith(PROBE_MARK):
            data = json.loads(line[len(PROBE_MARK) :])
            if data.get("name") != "micropython":
                break
            return Board(tuple(data["version"]), data["free"], data["romfs"], data["wide"], data["root"])
    raise FlashError(f"no MicroPython answered on {port}")


def plan(board: Board, image_size: int) -> str:
    """ "romfs" or "files": where the application goes; FlashError when the board can hold it neither way."""
    if board.version < MIN_MICROPYTHON:
        found = ".".join(str(part) for part in board.version)
        wanted = ".".join(str(part) for part in MIN_MICROPYTHON)
        raise FlashError(f"the board runs MicroPython {found}; the firmware needs {wanted} or newer")
    if board.romfs >= image_size:
        return "romfs"
    if board.free >= board.files_need():
        return "files"
    partition = f"a ROMFS partition of {board.romfs} bytes" if board.romfs else "no ROMFS partition"
    raise FlashError(
        f"this board cannot hold the application: it has {partition} (the image takes {image_size} bytes) "
        f"and {board.free} bytes of free heap, where the application from files needs {board.files_need()}. "
        f"Install a MicroPython build with a ROMFS partition ({ROMFS_DOCS}) and flash again. Nothing was copied."
    )


def install(port: str, bundle: Path, where: str, config: Path | None) -> None:
    """Copy the application, boot.py, main.py (and the config) in one mpremote session."""
    args: list[str] = []
    if where == "romfs":
        args += ["romfs", "deploy", str(bundle / ROMFS_IMAGE), "+"]
    args += ["exec", CLEAN, "+"]
    if where == "files":
        args += ["fs", "cp", "-r", f"{bundle / APP_DIR}/.", ":", "+"]
    args += ["fs", "cp", str(bundle / "boot.py"), str(bundle / "main.py"), ":"]
    if config is not None:
        args += ["+", "fs", "cp", str(config), ":config.json"]
    _mpremote(port, *args)


def watch(port: str, configured: bool, timeout: float, out: Any = sys.stdout) -> str:
    """Soft-reset the board and show its console until it joins the hub (or shows its setup network)."""
    import serial

    console = serial.Serial()
    console.port = port
    console.baudrate = 115200
    console.timeout = 0.2
    console.dtr = False  # no reset through the USB bridge's lines: the soft reset below is the one
    console.rts = False
    try:
        console.open()
    except (OSError, serial.SerialException) as error:
        raise FlashError(f"cannot open {port}: {error}") from None
    try:
        console.write(b"\r\x03\x03\r\x02")  # stop whatever runs; the friendly REPL
        time.sleep(0.2)
        console.write(b"\x04")  # soft reset: boot.py, then main.py
        deadline = time.monotonic() + timeout
        pending = b""
        last = ""
        while time.monotonic() < deadline:
            pending += console.read(256)
            while b"\n" in pending:
                raw, pending = pending.split(b"\n", 1)
                line = raw.decode("utf-8", "replace").rstrip("\r")
                print("  | " + line, file=out, flush=True)
                joined = _JOINED.search(line)
                if joined:
                    return f"the device joined the hub at {joined.group(1)} ({joined.group(2)})"
                setup = _SETUP.search(line)
                if setup:
                    if configured:
                        raise FlashError(f"the device did not take its config.json: {last or line}")
                    return (
                        f"the device waits to be paired: join Wi-Fi {setup.group(1)} with password "
                        f"{setup.group(2)} and open http://192.168.4.1/ (docs/firmware.md, Provision)"
                    )
                if _REFUSED in line:
                    raise FlashError("the hub refused the device's credentials (device_id and secret)")
                if _FATAL in line:
                    raise FlashError(f"the firmware stopped: {line}")
                if line.strip():
                    last = line.strip()
        what = "join the hub" if configured else "show its setup network"
        raise FlashError(f"the device did not {what} within {int(timeout)} s (last line: {last or 'none'})")
    finally:
        console.close()


def flash(port: str, config: Path | None, timeout: float = JOIN_TIMEOUT, out: Any = sys.stdout) -> str:
    """The whole command: what the device said at the end; FlashError when it did not get there."""
    if config is not None:
        _, notes = check_config(config)
        for note in notes:
            print(f"config: {note}", file=out)
    if not Path(port).exists():
        raise FlashError(f"{port}: no such serial port")
    with tempfile.TemporaryDirectory(prefix="lamplighter-flash-") as folder:
        bundle = Path(folder) / "bundle"
        try:
            manifest = build_bundle(bundle)
        except BundleError as error:
            raise FlashError(str(error)) from None
        board = probe(port)
        where = plan(board, manifest["files"][ROMFS_IMAGE]["size"])
        version = ".".join(str(part) for part in board.version)
        print(
            f"board: MicroPython {version}, {board.free} bytes of free heap, "
            f"ROMFS partition: {board.romfs or 'none'}; firmware {manifest['version']} "
            f"{'into the ROMFS partition' if where == 'romfs' else 'onto the filesystem'}",
            file=out,
            flush=True,
        )
        configured = config is not None or config_module.CONFIG_FILE in board.root
        if config is None and configured:
            print("keeping the board's config.json", file=out)
        install(port, bundle, where, config)
    print("copied; resetting the board", file=out, flush=True)
    return watch(port, configured, timeout, out)


def flash_main(argv: list[str]) -> int:
    """`lamplighter flash PORT [--config FILE]`."""
    parser = argparse.ArgumentParser(
        prog="lamplighter flash",
        description="Install the firmware on a board running MicroPython and start it (docs/firmware.md).",
    )
    parser.add_argument("port", metavar="PORT", help="the board's serial port (e.g. /dev/ttyUSB0) or a pty")
    parser.add_argument("--config", type=Path, help="config.json to put on the board (checked first)")
    args = parser.parse_args(argv)
    try:
        said = flash(args.port, args.config)
    except FlashError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(said)
    return 0
