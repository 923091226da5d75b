"""A board stand-in for tests: MicroPython's unix port behind a pseudo-terminal, driven by the real mpremote.

Not a simulator of the ESP32: it is what mpremote and `lamplighter flash` need of a board.
- The port's path (`BoardStandin.port`) is a pty whose other end this process relays to the
  `micropython` process's own pty (echo and output post-processing off, so a board's bytes go
  through as they are; Ctrl-C still interrupts a running main.py, as on a board).
- The board's filesystem is the VFS root of that process: a folder (`flash`), mounted at `/`.
- Raw REPL and raw-paste mode are the port's own. A soft reset (Ctrl-D) makes the port exit:
  the stand-in says "soft reboot" as a board does and starts it again with a fresh heap, running
  boot.py, then main.py from the friendly REPL (boot.py only from the raw REPL, back into it).
  When main.py returns (the firmware asks for a reset) the board is started again, as by
  machine.reset(), which the port lacks.
- The heap is a board's (`heap`, bytes, 32-bit terms) scaled to the 64-bit port as the
  `--runtime micropython` devices are (micropython_devices.WORD_SIZE_SCALE); an optional ROMFS
  partition of `romfs_size` bytes (a file beside the filesystem) is what `vfs.rom_ioctl` writes
  and what each boot mounts at /rom (standin_rom.py), its bytes held in the port's heap on top.
"""

import fcntl
import os
import pty
import select
import subprocess
import termios
import threading
import time
from pathlib import Path

from lamplighter.tools.micropython_devices import WORD_SIZE_SCALE, micropython_command

ROM_SCRIPT = Path(__file__).with_name("standin_rom.py")
RESET_EXIT = 3  # standin_rom.py: main.py returned, the board resets
SOFT_REBOOT = b"MPY: soft reboot\r\n"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
TAIL_BYTES = 64  # longer than either banner
FRIENDLY_PROMPT = b">>> "
REPL_BANNER = b"MicroPython "
# Heap the stand-in's own start takes beside the board's (standin_rom.py, the port's REPL: about 8 KB
# measured), so a board reports about its own heap free (100 KB × 1.34 = 134 KB on plain ESP32).
START_ALLOWANCE = 8 * 1024
PSRAM_HEAP = 2 * 1024 * 1024  # a PSRAM board's heap (an M5Stack Core2 has more)
PLAIN_ESP32_HEAP = 100 * 1024  # an ESP32 without PSRAM (micropython_devices.DEFAULT_HEAP_BYTES)


def _raw_terminal(fd, signals):
    attrs = termios.tcgetattr(fd)
    attrs[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
    attrs[1] &= ~termios.OPOST
    attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN)
    if signals:
        attrs[3] |= termios.ISIG
    else:
        attrs[3] &= ~termios.ISIG
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _readable(fds, timeout):
    """Those of fds ready to read (or closed at the other end). poll, not select: a test process
    may hold more than FD_SETSIZE (1024) descriptors, and select refuses any numbered above it."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return [fd for fd, _ in poller.poll(timeout * 1000)]


def _controlling_terminal():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class BoardStandin:
    """One stand-in board: start() it, give `port` to mpremote or `lamplighter flash`, stop() it."""

    def __init__(self, folder, heap=PSRAM_HEAP, romfs_size=None):
        self.folder = Path(folder)
        self.flash = self.folder / "flash"
        self.flash.mkdir(parents=True, exist_ok=True)
        self.partition = None
        if romfs_size:
            self.partition = self.folder / "romfs.partition"
            if not self.partition.exists():
                self.partition.write_bytes(b"\xff" * romfs_size)  # erased flash
        self.heap = heap
        self.romfs_size = romfs_size or 0
        self.console = bytearray()  # everything the board said, for the tests' messages
        self.boots = 0
        self.port = ""
        self._outer = -1
        self._outer_slave = -1
        self._inner = -1  # -1 while no process runs
        self._process = None
        self._raw = False
        self._tail = b""  # the console's last bytes, where the REPL's banners are looked for
        self._held = None  # input kept while a reset into the raw REPL is under way
        self._swallow = False
        self._pending = b""
        self._running = False
        self._thread = None
        self._wake = os.pipe()

    def heap_size(self):
        """The port's -X heapsize: the board's heap in 64-bit terms, the partition and the start on top."""
        return int(self.heap * WORD_SIZE_SCALE) + self.romfs_size + START_ALLOWANCE

    def start(self):
        """Open the pty, boot the board (boot.py, main.py), relay until stop()."""
        self._outer, self._outer_slave = pty.openpty()
        _raw_terminal(self._outer_slave, signals=False)
        self.port = os.ttyname(self._outer_slave)
        self._running = True
        self._spawn(run_main=True)
        self._thread = threading.Thread(target=self._relay, name="board-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop the board's process and the relay; close the pty."""
        self._running = False
        os.write(self._wake[1], b"x")
        if self._thread is not None:
            self._thread.join(10)
        self._kill()
        for fd in (self._outer, self._outer_slave, self._wake[0], self._wake[1]):
            if fd >= 0:
                os.close(fd)
        self._outer = self._outer_slave = -1

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def text(self):
        """What the board said so far, as text."""
        return bytes(self.console).decode("utf-8", "replace")

    # ---- the board's process -----------------------------------------------------------

    def _spawn(self, run_main):
        inner, slave = pty.openpty()
        _raw_terminal(slave, signals=True)  # the port sets raw mode itself while it reads its REPL
        env = dict(os.environ)
        env.update(STANDIN_FLASH=str(self.flash), STANDIN_MAIN="1" if run_main else "0", MICROPYPATH="")
        env.pop("STANDIN_ROMFS", None)
        if self.partition is not None:
            env["STANDIN_ROMFS"] = str(self.partition)
        command = [micropython_command(), "-X", f"heapsize={self.heap_size()}", "-i", str(ROM_SCRIPT)]
        self._process = subprocess.Popen(  # noqa: S603 - the port and our own start script
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=self.flash,
            env=env,
            start_new_session=True,
            preexec_fn=_controlling_terminal,  # noqa: PLW1509 - Ctrl-C reaches main.py as SIGINT
        )
        os.close(slave)
        self._inner = inner
        self.boots += 1

    def _kill(self):
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)
        if self._inner >= 0:
            os.close(self._inner)
            self._inner = -1

    def _restart(self, code):
        """The process ended: a soft reset (Ctrl-D at a REPL) or a reset (main.py returned)."""
        self._kill()
        if code == RESET_EXIT or code != 0:
            time.sleep(0.3)  # a board takes a moment to come back; no tight loop on a crash
            self._raw = False
            self._spawn(run_main=True)
            return
        self._emit(SOFT_REBOOT)
        if self._raw:
            # Back into the raw REPL, as a board does: boot.py runs, main.py does not.
            self._held = bytearray()
            self._swallow = False
            self._spawn(run_main=False)
        else:
            self._spawn(run_main=True)

    # ---- the relay ---------------------------------------------------------------------

    def _emit(self, data):
        self.console += data
        try:
            os.write(self._outer, data)
        except OSError:
            pass

    def _from_board(self, data):
        if self._held is not None:
            if not self._swallow:
                start = data.find(REPL_BANNER)
                if start < 0:
                    self._emit(data)  # boot.py's output
                    return
                self._emit(data[:start])
                self._swallow = True
                os.write(self._inner, b"\x01")
                data = data[start:]
            self._pending += data
            end = self._pending.find(RAW_BANNER)
            if end < 0:
                return
            data = self._pending[end:]
            self._pending = b""
            held, self._held = bytes(self._held), None
            self._swallow = False
            self._track(data)
            self._emit(data)
            if held:
                os.write(self._inner, held)
            return
        self._track(data)
        self._emit(data)

    def _track(self, data):
        # Over the output's tail, not this read alone: a banner can come in two reads (a busy machine).
        self._tail = (self._tail + data)[-TAIL_BYTES:]
        raw_at = self._tail.rfind(RAW_BANNER)
        friendly_at = self._tail.rfind(FRIENDLY_PROMPT)
        if raw_at >= 0 and raw_at > friendly_at:
            self._raw = True
        elif friendly_at >= 0 and friendly_at > raw_at:
            self._raw = False

    def _relay(self):
        while self._running:
            inner = self._inner
            readers = [self._outer, self._wake[0]] + ([inner] if inner >= 0 else [])
            ready = _readable(readers, 0.5)
            if self._wake[0] in ready or not self._running:
                return
            if self._outer in ready:
                try:
                    data = os.read(self._outer, 4096)
                except OSError:
                    data = b""
                if data:
                    if self._held is not None:
                        self._held += data
                    elif self._inner >= 0:
                        os.write(self._inner, data)
            if inner >= 0 and inner in ready:
                try:
                    data = os.read(inner, 4096)
                except OSError:  # EIO: the process ended and its end of the pty is closed
                    data = b""
                if data:
                    self._from_board(data)
                    continue
                code = self._process.wait(10) if self._process is not None else 0
                self._restart(code)
