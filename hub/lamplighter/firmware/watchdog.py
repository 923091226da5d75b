"""The watchdog: fed from the event loop, so a hung loop resets the board (machine.WDT on ESP32).

SimulatedWatchdog is the host's stand-in, pure and clock-driven (proven under MicroPython).
"""

from .compat import const, sleep_ms, ticks_add, ticks_diff

_DEFAULT_TIMEOUT_MS = const(30000)


class SimulatedWatchdog:
    """Remembers when it was last fed; expired() says whether a real one would have reset the board."""

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


async def feed_forever(hal, timeout_ms=_DEFAULT_TIMEOUT_MS):
    """Arm the hardware watchdog and feed it from the loop four times per timeout."""
    hal.watchdog_start(timeout_ms)
    while True:
        hal.watchdog_feed()
        await sleep_ms(timeout_ms // 4)
