"""The bench wiring of a host device: read pins, press buttons, cut Wi-Fi, read the heap, inject faults.

Host only, left out of the bundle. Tests and benchmarks call run(device, op, args): in-process on
CPython, and on MicroPython's unix port over the loopback control port that hub/lamplighter/firmware/unix_main.py
opens when the launcher asks for one (JSON lines; never on a board).
"""

import gc
import sys

INJECTED = "injected fault"
_base = [0]  # mem_alloc() when count_allocations started (functions take no attributes on MicroPython)


def _firmware_module(device, name):
    """A firmware module by name: this file is `host_control` on the unix port, inside the package on CPython."""
    package = device.__class__.__module__.rsplit(".", 1)[0]  # "firmware" or "lamplighter.firmware"
    __import__(package + "." + name)
    return sys.modules[package + "." + name]


def _fail_once(owner, name, error):
    """Make owner.name raise error on its next call, then behave as before."""
    original = getattr(owner, name)

    def failing(*args):
        setattr(owner, name, original)
        raise error

    setattr(owner, name, failing)


def inject(device, target, kind):
    """The next call into target ("hub", "web" or "ota") raises MemoryError ("memory") or RuntimeError."""
    error = MemoryError(INJECTED) if kind == "memory" else RuntimeError(INJECTED)
    if target == "hub":
        _fail_once(device.hub, "handle", error)  # the next hub message, in the session's reader
    elif target == "web":
        _fail_once(device, "status_payload", error)  # the next GET /status
    elif target == "ota":
        ota = _firmware_module(device, "ota")

        original = ota.Updater.write

        def failing(self, data):
            ota.Updater.write = original
            raise error

        ota.Updater.write = failing  # the next block an update receives
    else:
        raise ValueError("unknown target " + str(target))
    return True


def heap():
    """Heap figures after a collection (MicroPython; None on CPython, which has no capped heap)."""
    if not hasattr(gc, "mem_free"):
        return None
    gc.collect()
    return {"free": gc.mem_free(), "allocated": gc.mem_alloc()}


def count_allocations(start):
    """start=True: collections off, remember mem_alloc; False: the bytes allocated since, collections on."""
    if not hasattr(gc, "mem_alloc"):
        return None
    if start:
        gc.collect()
        gc.disable()
        _base[0] = gc.mem_alloc()
        return 0
    allocated = gc.mem_alloc() - _base[0]
    gc.enable()
    return allocated


def run(device, op, args):
    """Carry out one operation on the running device; its JSON-able result."""
    hal = device.hal
    if op == "pin":
        return hal.pin_get(args[0])
    if op == "duty":
        return hal.duty(args[0])
    if op == "press":
        hal.press(args[0])
        return True
    if op == "cut_wifi":
        hal.cut_wifi()
        return True
    if op == "restore_wifi":
        hal.restore_wifi()
        return True
    if op == "light":
        return device.store.entry(args[0], args[1])
    if op == "held":  # a light's held fade: running or not, and the point it has reached
        key = args[0] + "/" + args[1]
        return {"fading": key in device.store.fades, "point": device.store.point(key)}
    if op == "flashing":  # the lights a hub's flash is blinking now
        return sorted(device.store.flashes)
    if op == "wifi":
        return {"connected": device.wifi.connected, "joins": hal.wifi_joins, "power_save": hal.wifi_power_save}
    if op == "watchdog":
        return {"feeds": hal.watchdog.feeds, "expired": hal.watchdog.expired(hal.ticks_ms())}
    if op == "display":
        return list(hal.display_lines)
    if op == "log":
        device.log.warning(args[0])
        return True
    if op == "hub":
        status = dict(device.hub.status)
        status["sessions"] = device.hub.sessions
        return status
    if op == "lan_token":
        return device.lan_token
    if op == "ota_retry_delay":
        device.ota.retry_delay = args[0]
        return True
    if op == "inject":
        return inject(device, args[0], args[1])
    if op == "hub_backoff":
        backoff = _firmware_module(device, "backoff")
        device.hub.backoff = backoff.Backoff(base=args[0], cap=args[1], floor=args[2])
        return True
    if op == "failures":
        return dict(device.supervisor.failures)
    if op == "heap":
        return heap()
    if op == "count_allocations":
        return count_allocations(args[0])
    raise ValueError("unknown operation " + str(op))
