"""Host hardware (CPython simulator): pins in memory, a folder as flash, log lines in a list."""

import gc
import time

from firmware.compat import ticks_add, ticks_diff, ticks_ms
from firmware.watchdog import SimulatedWatchdog

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

    def ota_slots(self):
        """The OTA slots: two files in the flash folder, with the bootloader's rollback rules."""
        from firmware.ota_slots import FileSlots

        return FileSlots(self.flash_root)

    def display(self, line):
        """Keep the line, as a device's screen would show it."""
        self.display_lines.append(line)
        if len(self.display_lines) > MAX_DISPLAY_LINES:
            del self.display_lines[0]
