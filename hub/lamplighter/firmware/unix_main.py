"""The device's entry on MicroPython's unix port: what main.py is on a board (`--runtime micropython`).

The launcher (hub/lamplighter/tools/micropython_devices.py) runs `micropython -X heapsize=N -m unix_main`
with the compiled bundle and these settings in the environment:
  LAMPLIGHTER_FLASH     the device's flash folder (config.json, state, OTA slots)
  LAMPLIGHTER_ROMFS     the bundle's app.romfs, mounted at /rom (or LAMPLIGHTER_APP: its app/ folder)
  LAMPLIGHTER_LOG_LEVEL 10 debug, 20 info, 30 warning
  LAMPLIGHTER_SETUP     host:port:seconds of the setup page when the flash has no config
  LAMPLIGHTER_CONTROL   a loopback port for host_control (tests and benchmarks only)
  LAMPLIGHTER_FIRMWARE_HEAP   the heap the firmware gets: a board's, in this port's 64-bit terms
What a board does not carry (the ROMFS image, this entry with the interpreter's own start, the
control port) is measured here and counted apart, and the heap beyond the board's is held, so
the firmware gets the board's heap exactly: no more (it would hide a shortage) and no less.
It exits 0 when stopped and REBOOT_EXIT when the firmware asks for a reboot: the launcher starts
it again on the same flash, with a fresh heap, as a board resets.
"""

import gc
import os
import sys

REBOOT_EXIT = 3
FAILED_EXIT = 1
_held = []  # the ROMFS image (the unix port has no flash to map) and the heap beyond the board's
_BLOCK = 32  # the unix port's heap block (64-bit)


def _mount_romfs(path):
    """Mount the bundle's ROMFS image at /rom; the heap bytes it takes (kept apart from the firmware's)."""
    import vfs

    size = os.stat(path)[6]
    gc.collect()
    before = gc.mem_alloc()
    image = bytearray(size)
    with open(path, "rb") as handle:
        handle.readinto(image)
    _held.append(image)
    gc.collect()
    reserved = gc.mem_alloc() - before
    vfs.mount(vfs.VfsRom(image), "/rom")
    sys.path.insert(0, "/rom/lib")
    sys.path.insert(0, "/rom")
    return reserved


def _use_folder(path):
    sys.path.insert(0, path + "/lib")
    sys.path.insert(0, path)
    return 0


async def _serve_control(port, current):
    """JSON lines on 127.0.0.1:port: {"op", "args"} in, {"ok"} or {"error"} out (host_control)."""
    import json

    import host_control
    from firmware.compat import asyncio

    async def session(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    request = json.loads(line)
                    answer = {"ok": host_control.run(current[0], request["op"], request.get("args") or [])}
                except Exception as error:  # noqa: BLE001 - a bad request must not stop the device
                    answer = {"error": repr(error)}
                writer.write((json.dumps(answer) + "\n").encode())
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            await writer.wait_closed()

    return await asyncio.start_server(session, "127.0.0.1", port)


def _hold_rest(hardware, taken, firmware_heap):
    """Count the host's share apart and hold the heap beyond the board's; False when short of it."""
    hardware.heap_reserved += taken
    if not firmware_heap:
        return True  # run by hand, with no board's heap given: all of the port's
    gc.collect()
    usable = gc.mem_free() + gc.mem_alloc() - hardware.heap_reserved
    if usable < firmware_heap:
        print("the host's part took " + str(taken) + " B of heap: the firmware would have " + str(usable) +
              " B, under the board's " + str(firmware_heap))
        return False
    rest = (usable - firmware_heap) // _BLOCK * _BLOCK - _BLOCK  # the bytearray's own header takes a block
    if rest > 0:
        before = gc.mem_alloc()
        _held.append(bytearray(rest))
        hardware.heap_reserved += gc.mem_alloc() - before
    return True


async def _boot(hardware, env, entry_heap):
    from firmware import config as config_module
    from firmware import log as log_module
    from firmware.app import Device, provision

    level = int(env("LAMPLIGHTER_LOG_LEVEL") or log_module.INFO)
    firmware_heap = int(env("LAMPLIGHTER_FIRMWARE_HEAP") or 0)
    try:
        config = config_module.load(hardware.flash_root)
    except config_module.ConfigError as error:
        setup = (env("LAMPLIGHTER_SETUP") or "").split(":")
        if len(setup) != 3:
            print("no usable config.json: " + str(error))
            return FAILED_EXIT
        if not _hold_rest(hardware, entry_heap, firmware_heap):
            return FAILED_EXIT
        logger = log_module.Logger("setup", hardware, level)
        host, port, seconds = setup[0], int(setup[1]), float(setup[2])
        print("setup page: http://" + host + ":" + str(port) + "/")
        config = await provision(hardware, logger, "host", host, port, seconds)
        if config is None:
            print("setup page closed without pairing")
            return FAILED_EXIT
        config["lan_url"] = "http://" + host + ":" + str(port)
        config_module.save(hardware.flash_root, config)
        return REBOOT_EXIT  # a board reboots into normal operation once paired
    current = []  # the device, once made: host_control's requests go to it
    control = env("LAMPLIGHTER_CONTROL")
    server = None
    wiring = 0
    if control:
        gc.collect()
        before = gc.mem_alloc()
        server = await _serve_control(int(control), current)
        gc.collect()
        wiring = gc.mem_alloc() - before  # bench wiring, not the firmware's
    if not _hold_rest(hardware, entry_heap + wiring, firmware_heap):
        if server is not None:
            server.close()
        return FAILED_EXIT
    device = Device(hardware, config, log_module.Logger(config["device_id"], hardware, level))
    current.append(device)
    try:
        await device.run()
    except OSError:
        return FAILED_EXIT  # the web server could not listen (logged)
    finally:
        if server is not None:
            server.close()
    return REBOOT_EXIT if device.restart_requested else 0


def main():
    """Mount the application, make the host hardware on the flash folder, run; exit with the outcome."""
    gc.collect()
    entry_heap = gc.mem_alloc()  # the interpreter's start and this entry: a board's main.py is 134 B
    env = os.getenv
    romfs = env("LAMPLIGHTER_ROMFS")
    reserved = _mount_romfs(romfs) if romfs else _use_folder(env("LAMPLIGHTER_APP") or "app")
    from firmware import hal
    from firmware.compat import asyncio

    hardware = hal.create(flash_root=env("LAMPLIGHTER_FLASH") or ".", display_limit=20, heap_reserved=reserved)
    try:
        code = asyncio.run(_boot(hardware, env, entry_heap))
    except Exception as error:  # noqa: BLE001 - as main.py on a board: say why, then reset
        sys.print_exception(error)  # type: ignore[attr-defined]
        code = REBOOT_EXIT
    sys.exit(code)


if __name__ == "__main__":
    main()
