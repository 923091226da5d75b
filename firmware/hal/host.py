"""Host hardware (CPython simulator): pins in memory, a folder as flash, log lines in a list."""

import gc
import time

from firmware.compat import ticks_diff, ticks_ms

MAX_DISPLAY_LINES = 200


class HostHal:
    """Simulated hardware of one device; every verb the firmware uses, without hardware."""

    board = "host"

    def __init__(self, flash_root, rssi=-50):
        self.flash_root = flash_root
        self.pins = {}
        self.display_lines = []
        self.reboot_requested = False
        self._rssi = rssi
        self._wifi = False
        self._boot_ticks = ticks_ms()

    async def wifi_join(self, ssid=None, password=None, timeout_ms=15000):
        """The host is always on the network."""
        self._wifi = True
        return True

    def wifi_connected(self):
        """True once joined (always, on the host)."""
        return True

    def rssi(self):
        """A plausible signal strength in dBm."""
        return self._rssi

    def pin_set(self, pin, on):
        """Drive a light's output pin."""
        self.pins[pin] = bool(on)

    def pin_get(self, pin):
        """What the pin was last set to (False when never set)."""
        return self.pins.get(pin, False)

    def ticks_ms(self):
        """Monotonic milliseconds."""
        return ticks_ms()

    def uptime(self):
        """Seconds since this hardware object was made (the simulated boot)."""
        return ticks_diff(ticks_ms(), self._boot_ticks) // 1000

    def free_memory(self):
        """A stand-in figure: objects tracked by the garbage collector, in bytes-ish units."""
        return len(gc.get_objects()) * 64

    def wall_time(self):
        """Seconds since the epoch."""
        return int(time.time())

    def reboot(self):
        """Record the request; the simulator decides what a reboot means."""
        self.reboot_requested = True

    def display(self, line):
        """Keep the line, as a device's screen would show it."""
        self.display_lines.append(line)
        if len(self.display_lines) > MAX_DISPLAY_LINES:
            del self.display_lines[0]
