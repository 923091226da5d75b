"""The watchdog: fed from the event loop, so a hung loop resets the board (machine.WDT on ESP32).

The host's stand-in (SimulatedWatchdog) is in hal/host.py, which a board never imports.
"""

from .compat import const, sleep_ms

_DEFAULT_TIMEOUT_MS = const(30000)


async def feed_forever(hal, timeout_ms=_DEFAULT_TIMEOUT_MS):
    """Arm the hardware watchdog and feed it from the loop four times per timeout."""
    hal.watchdog_start(timeout_ms)
    while True:
        hal.watchdog_feed()
        await sleep_ms(timeout_ms // 4)
