"""ESP32 hardware (MicroPython): Wi-Fi via network.WLAN, lights on machine.Pin, flash at "/"."""

import gc

import machine
import network

from ..compat import const, sleep_ms, ticks_diff, ticks_ms

# LED PWM (LEDC) frequency: above 3 kHz flicker has no observable effect (IEEE 1789), and
# 80 MHz / 4 kHz leaves 14 bits of duty resolution on every ESP32 variant.
_PWM_FREQUENCY = const(4000)


class Esp32Hal:
    """The real board; the only code (with the rest of this package) that touches hardware."""

    board = "esp32"

    def __init__(self, flash_root="/", board="esp32", display=None):
        self.flash_root = flash_root
        self.board = board
        self._pins = {}
        self._pwms = {}
        self._buttons = {}
        self._wlan = network.WLAN(network.STA_IF)
        self._ap = None
        self._wdt = None
        self._display = display  # e.g. an M5Core2 screen driver with a text(line) method
        self._boot_ticks = ticks_ms()

    async def wifi_join(self, ssid=None, password=None, timeout_ms=15000):
        """Join the Wi-Fi network; True when connected within the timeout."""
        self._wlan.active(True)
        if self._wlan.isconnected():
            return True
        if not ssid:
            return False
        self._wlan.connect(ssid, password or "")
        start = ticks_ms()
        while not self._wlan.isconnected():
            if ticks_diff(ticks_ms(), start) > timeout_ms:
                return False
            await sleep_ms(200)
        return True

    def wifi_connected(self):
        """True while associated with the access point."""
        return self._wlan.isconnected()

    def wifi_configure(self, power_save=False):
        """Radio power saving: off by default (it adds tens to hundreds of ms to every round trip)."""
        self._wlan.active(True)
        try:
            self._wlan.config(pm=network.WLAN.PM_PERFORMANCE if power_save else network.WLAN.PM_NONE)
        except (AttributeError, ValueError, OSError):  # older firmware without the pm setting
            pass

    def ap_start(self, ssid, password):
        """Open the setup access point (WPA2 with the given password, shown on serial and screen)."""
        ap = network.WLAN(network.AP_IF)
        ap.active(True)
        ap.config(ssid=ssid, key=password, security=3)  # 3: WPA2-PSK
        self._ap = ap

    def ap_stop(self):
        """Close the setup access point."""
        if self._ap is not None:
            self._ap.active(False)
            self._ap = None

    def button_pressed(self, pin):
        """True while the button on this pin is held (buttons pull the pin to ground)."""
        button = self._buttons.get(pin)
        if button is None:
            button = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)
            self._buttons[pin] = button
        return button.value() == 0

    def watchdog_start(self, timeout_ms):
        """Arm the hardware watchdog: the board resets if the loop stops feeding it."""
        self._wdt = machine.WDT(timeout=timeout_ms)

    def watchdog_feed(self):
        """Tell the watchdog the loop is alive."""
        if self._wdt is not None:
            self._wdt.feed()

    def attach_display(self, display):
        """Use this screen driver (an object with text(line)) for log lines."""
        self._display = display

    def rssi(self):
        """Signal strength in dBm, or None when not connected."""
        if not self._wlan.isconnected():
            return None
        try:
            return self._wlan.status("rssi")
        except (OSError, ValueError):
            return None

    def pin_set(self, pin, on):
        """Drive a light's output pin."""
        output = self._pins.get(pin)
        if output is None:
            output = machine.Pin(pin, machine.Pin.OUT)
            self._pins[pin] = output
        output.value(1 if on else 0)

    def pwm_set(self, pin, duty):
        """Drive a PWM channel (LEDC): duty 0..65535."""
        output = self._pwms.get(pin)
        if output is None:
            output = machine.PWM(machine.Pin(pin, machine.Pin.OUT), freq=_PWM_FREQUENCY, duty_u16=duty)
            self._pwms[pin] = output
        else:
            output.duty_u16(duty)

    def duty(self, pin):
        """The duty (0..65535) a PWM pin is at (0 when never set)."""
        output = self._pwms.get(pin)
        return output.duty_u16() if output is not None else 0

    def ticks_ms(self):
        """Monotonic milliseconds (wrapping; use ticks_diff)."""
        return ticks_ms()

    def uptime(self):
        """Seconds since boot."""
        return ticks_diff(ticks_ms(), self._boot_ticks) // 1000

    def free_memory(self):
        """Free heap in bytes."""
        gc.collect()
        return gc.mem_free()

    def heap(self):
        """{"free", "allocated"}: the Python heap in bytes, as gc sees it."""
        return {"free": gc.mem_free(), "allocated": gc.mem_alloc()}

    def reboot(self):
        """Restart the chip."""
        machine.reset()

    def ota_slots(self):
        """The OTA slots: the two app partitions (esp32.Partition)."""
        from .esp32_ota import PartitionSlots

        return PartitionSlots(self.flash_root)

    def display(self, line):
        """Draw a log line on the screen, when the board has one."""
        if self._display is not None:
            try:
                self._display.text(line)
            except Exception:  # noqa: S110 - a broken screen must not stop the lights
                pass
