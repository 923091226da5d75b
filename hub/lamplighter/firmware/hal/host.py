"""Host hardware (CPython and MicroPython's unix port): pins in memory, a folder as flash, log lines in a list.

FileSlots, the host's OTA slots, and SimulatedWatchdog live here too. The bundle carries this module so that the
unix port runs the very image a board gets; a board never imports it (hal.create() picks by
platform).
"""

import gc

from .. import storage
from ..compat import fsync, os, path_exists, ticks_add, ticks_diff, ticks_ms
from ..ota_slots import SlotRecords

MAX_DISPLAY_LINES = 200
BOOT_FILE = "boot.json"
BOOT_VALID = "valid"
BOOT_PENDING_VERIFY = "pending_verify"
BOOT_TRIAL = "trial"
# A manifest flag the host's boot honours, so "a new image that fails to come up" can be tried
# for real: the simulated device refuses to start from that slot (docs/ota.md).
SIMULATE_BOOT_FAILURE = "simulate_boot_failure"


class SimulatedWatchdog:
    """The host's watchdog (pure, clock-driven): expired() says whether a real one would have reset the board."""

    def __init__(self):
        self.timeout_ms = None
        self.feeds = 0
        self._deadline = None

    def start(self, timeout_ms, now):
        """Arm it (a real watchdog cannot be stopped once started)."""
        self.timeout_ms = timeout_ms
        self._deadline = ticks_add(now, timeout_ms)

    def feed(self, now):
        """Push the deadline out by one timeout."""
        if self.timeout_ms is not None:
            self.feeds += 1
            self._deadline = ticks_add(now, self.timeout_ms)

    def expired(self, now):
        """True when the loop has not fed it within the timeout."""
        return self._deadline is not None and ticks_diff(now, self._deadline) > 0


class HostHal:
    """Simulated hardware of one device; every verb the firmware uses, without hardware."""

    board = "host"
    # Where main.py's setup page listens when the flash has no config (app.boot): loopback and a
    # free port, as a host has no access point of its own (the launchers give their own address).
    SETUP_ADDRESS = ("127.0.0.1", 0)

    def __init__(self, flash_root=".", rssi=-50, display_limit=MAX_DISPLAY_LINES, heap_reserved=0):
        # "." by default: main.py on the unix port runs as on a board, from the current folder (the
        # board stand-in's filesystem root). Relative, as the unix port's VfsPosix refuses
        # os.rename between two absolute paths, which storage's atomic writes do.
        self.flash_root = flash_root
        self.pins = {}
        self.duties = {}  # PWM pin -> duty 0..65535
        self.display_lines = []
        self.display_limit = display_limit
        # Bytes of the heap the runtime holds for a board's flash (the unix port's ROMFS image),
        # left out of the firmware's own allocation figure.
        self.heap_reserved = heap_reserved
        self.reboot_requested = False
        self._rssi = rssi
        self._wifi = False
        self._boot_ticks = ticks_ms()
        # Simulated radio: tests cut the network (cut_wifi) and bring it back (restore_wifi).
        self.wifi_available = True
        self.wifi_joins = 0
        self.wifi_power_save = None
        self.access_point = None  # (ssid, password) while the setup access point is up
        self._pressed_until = {}  # button pin -> ticks until which it reads pressed
        self.watchdog = SimulatedWatchdog()

    async def wifi_join(self, ssid=None, password=None, timeout_ms=15000):
        """Join the simulated network: succeeds while it is available."""
        if not self.wifi_available:
            return False
        if not self._wifi:
            self.wifi_joins += 1
        self._wifi = True
        return True

    def wifi_connected(self):
        """True while joined and the simulated network is up."""
        return self._wifi and self.wifi_available

    def wifi_configure(self, power_save):
        """Record the power-saving choice (the ESP32 side sets the radio's mode)."""
        self.wifi_power_save = bool(power_save)

    def cut_wifi(self):
        """Simulate a drop: the access point disappears until restore_wifi()."""
        self.wifi_available = False
        self._wifi = False

    def restore_wifi(self):
        """The access point is back; the device must re-join by itself."""
        self.wifi_available = True

    def rssi(self):
        """A plausible signal strength in dBm, None when not joined."""
        return self._rssi if self.wifi_connected() else None

    def ap_start(self, ssid, password):
        """Open the setup access point (recorded; the setup page listens on loopback)."""
        self.access_point = (ssid, password)

    def ap_stop(self):
        """Close the setup access point."""
        self.access_point = None

    def button_pressed(self, pin):
        """True while a simulated press of this button pin lasts."""
        until = self._pressed_until.get(pin)
        return until is not None and ticks_diff(until, ticks_ms()) > 0

    def press(self, pin, duration_ms=120):
        """Simulate a person pressing the button on this pin for duration_ms."""
        self._pressed_until[pin] = ticks_add(ticks_ms(), duration_ms)

    def watchdog_start(self, timeout_ms):
        """Arm the simulated watchdog."""
        self.watchdog.start(timeout_ms, ticks_ms())

    def watchdog_feed(self):
        """Feed the simulated watchdog."""
        self.watchdog.feed(ticks_ms())

    def pin_set(self, pin, on):
        """Drive a light's output pin."""
        self.pins[pin] = bool(on)

    def pin_get(self, pin):
        """What the pin was last set to (False when never set)."""
        return self.pins.get(pin, False)

    def pwm_set(self, pin, duty):
        """Drive a PWM channel: duty 0..65535 (machine.PWM's duty_u16), recorded for tests."""
        self.duties[pin] = duty
        self.pins[pin] = duty > 0

    def duty(self, pin):
        """The duty (0..65535) a PWM pin was last set to (0 when never set)."""
        return self.duties.get(pin, 0)

    def ticks_ms(self):
        """Monotonic milliseconds."""
        return ticks_ms()

    def uptime(self):
        """Seconds since this hardware object was made (the simulated boot)."""
        return ticks_diff(ticks_ms(), self._boot_ticks) // 1000

    def free_memory(self):
        """Free heap in bytes (MicroPython), or the memory the machine has available (CPython)."""
        return self.heap()["free"]

    def heap(self):
        """{"free", "allocated"} in bytes: the MicroPython heap, or this process on CPython."""
        if hasattr(gc, "mem_free"):
            return {"free": gc.mem_free(), "allocated": max(0, gc.mem_alloc() - self.heap_reserved)}
        return _process_memory()

    def reboot(self):
        """Record the request; the simulator decides what a reboot means."""
        self.reboot_requested = True

    def ota_slots(self):
        """The OTA slots: two files in the flash folder, with the bootloader's rollback rules."""
        return FileSlots(self.flash_root)

    def display(self, line):
        """Keep the line, as a device's screen would show it."""
        self.display_lines.append(line)
        if len(self.display_lines) > self.display_limit:
            del self.display_lines[0]


def _process_memory():
    """CPython has no capped heap: this process's resident bytes and the machine's available ones."""
    page = 4096
    allocated = free = 0
    try:
        with open("/proc/self/statm") as handle:
            allocated = int(handle.read().split()[1]) * page
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):  # not Linux
        pass
    return {"free": free, "allocated": allocated}


class FileSlots(SlotRecords):
    """Two image files and a boot-selection file: the host's flash, with ESP-IDF's rollback rules."""

    def __init__(self, flash_root, capacity=None):
        super().__init__(flash_root)
        self._capacity = capacity
        self._handle = None
        self._running = self._boot()
        self.check_boot()

    def _read_boot(self):
        try:
            return storage.read_json(self._path(BOOT_FILE)) or {}
        except storage.StorageError:
            return {}

    def _boot(self):
        """The bootloader: which slot runs this boot (a trial that was not confirmed falls back)."""
        record = self._read_boot()
        slot = record.get("boot", 0)
        state = record.get("state", BOOT_VALID)
        if state == BOOT_PENDING_VERIFY:
            record["state"] = BOOT_TRIAL
            storage.write_json(self._path(BOOT_FILE), record)
        elif state == BOOT_TRIAL:
            # The new image had its one boot and never marked itself valid: back to the old one.
            slot = record.get("previous", 1 - slot)
            storage.write_json(self._path(BOOT_FILE), {"boot": slot, "state": BOOT_VALID})
        return slot

    def running_slot(self):
        """The slot this boot runs."""
        return self._running

    def capacity(self):
        """The configured slot size, if any."""
        return self._capacity

    def boot_fails(self):
        """The running image is marked as one that never comes up."""
        manifest = self.slot_manifest(self._running)
        return bool(manifest and manifest.get(SIMULATE_BOOT_FAILURE))

    def _slot_file(self, slot):
        return self._path("slot" + str(slot) + ".bin")

    def open_slot(self, slot, size):
        """Start writing slot from its first byte."""
        self.forget_manifest(slot)
        self._handle = open(self._slot_file(slot), "wb")

    def write_block(self, slot, index, block):
        """Write one block at its place."""
        self._handle.seek(index * 4096)
        self._handle.write(block)

    def close_slot(self, slot, manifest_text):
        """Flush the image, then keep its manifest."""
        if self._handle is not None:
            fsync(self._handle)
            self._handle.close()
            self._handle = None
        super().close_slot(slot, manifest_text)

    def discard_slot(self, slot):
        """Drop a partial image."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if path_exists(self._slot_file(slot)):
            os.remove(self._slot_file(slot))

    def read_slot(self, slot):
        """The image bytes of a slot (tests and diagnostics)."""
        with open(self._slot_file(slot), "rb") as handle:
            return handle.read()

    def _switch(self, slot):
        storage.write_json(
            self._path(BOOT_FILE), {"boot": slot, "previous": self._running, "state": BOOT_PENDING_VERIFY}
        )

    def _confirm(self):
        record = self._read_boot()
        record["state"] = BOOT_VALID
        storage.write_json(self._path(BOOT_FILE), record)
