"""The board stand-in's start on MicroPython's unix port: what a board's ROM and _boot.py do (test stand-in).

Run by board_standin.py as `micropython -i standin_rom.py` with, in the environment:
  STANDIN_FLASH    a host folder: becomes the VFS root, as a board's LittleFS is
  STANDIN_ROMFS    a host file, the ROMFS partition (absent: the board has none)
  STANDIN_MAIN     "1": run main.py after boot.py (a reset into the friendly REPL), else boot.py only
It mounts the filesystem and the ROMFS partition as a board does, gives `vfs.rom_ioctl` (the
partition interface mpremote's `romfs deploy` uses), runs boot.py and main.py, then leaves the
REPL to `-i`. When main.py returns (the firmware asks for a reset) it exits with RESET_EXIT, and
the stand-in starts it again: the unix port has no machine.reset().
"""

import gc
import os
import sys

import vfs as _vfs

RESET_EXIT = 3
_BLOCK = 4096  # the partition's erase block, as on an ESP32's flash


class _Partition:
    """The ROMFS partition: a host file, read into the heap (the unix port has no flash to map)."""

    def __init__(self, path):
        self.handle = open(path, "r+b")
        self.data = bytearray(os.stat(path)[6])  # one copy: a board's heap has no room for two
        self.handle.readinto(self.data)

    def ioctl(self, op, *args):
        """vfs.rom_ioctl's verbs for partition 0: count, device, prepare, write, finish, block size."""
        if op == 1:
            return 1
        if not args or args[0] != 0:
            return -19  # ENODEV
        args = args[1:]
        if op == 2:
            return memoryview(self.data)
        if op == 3:  # erase: flash reads 0xff until written
            offset, length = (args[0], args[1]) if len(args) == 2 else (0, args[0])
            if offset + length > len(self.data):
                return -22  # EINVAL
            for index in range(offset, offset + length):
                self.data[index] = 0xFF
            return 4  # the smallest write
        if op == 4:
            offset, buf = args
            self.data[offset : offset + len(buf)] = buf
            return 0
        if op == 5:
            self.handle.seek(0)
            self.handle.write(self.data)
            self.handle.flush()
            return 0
        if op == 6:
            return _BLOCK
        return -22


class _Vfs:
    """The vfs module as a board with ROMFS has it: the unix port's, with rom_ioctl."""

    def __init__(self, partition):
        for name in dir(_vfs):
            if not name.startswith("__"):
                setattr(self, name, getattr(_vfs, name))
        self.rom_ioctl = partition.ioctl


def _mount_romfs(partition):
    image = partition.data
    if bytes(image[:3]) != b"\xd2\xcd\x31":
        return False  # an empty partition: nothing to mount, as on a board
    try:
        _vfs.mount(_vfs.VfsRom(memoryview(image)), "/rom")
    except OSError as error:
        print("romfs: " + str(error))
        return False
    return True


def _run(name):
    try:
        os.stat(name)
    except OSError:
        return True
    try:
        with open(name) as handle:
            code = handle.read()
        exec(code, {"__name__": "__main__", "__file__": name})  # noqa: S102 - a board runs its own main.py
    except KeyboardInterrupt:
        print("KeyboardInterrupt")
        return False
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - a board prints the traceback and goes on
        sys.print_exception(error)  # type: ignore[attr-defined]
    return True


def start():
    """Mount, run boot.py (and main.py), then hand over to the REPL."""
    flash = os.getenv("STANDIN_FLASH")
    romfs = os.getenv("STANDIN_ROMFS")
    run_main = os.getenv("STANDIN_MAIN") == "1"
    partition = _Partition(romfs) if romfs else None  # opened before the host's root goes away
    _vfs.umount("/")
    _vfs.mount(_vfs.VfsPosix(flash), "/")
    os.chdir("/")
    sys.path.clear()
    sys.path.append("")
    sys.path.append(".frozen")
    if partition is not None:
        sys.modules["vfs"] = _Vfs(partition)
        if _mount_romfs(partition):
            sys.path.append("/rom")
            sys.path.append("/rom/lib")
    sys.path.append("/lib")
    gc.collect()
    if not _run("boot.py"):
        return
    if run_main:
        if _run("main.py"):
            sys.exit(RESET_EXIT)


start()
del start
gc.collect()
