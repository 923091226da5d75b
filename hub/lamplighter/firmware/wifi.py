"""Wi-Fi supervision: join at start, notice a drop, re-join with backoff; never blocks the loop.

The decisions (WifiSupervisor.observe) are synchronous and pure, so they are proven under
MicroPython; run() is the thin async glue that calls the hardware layer.
"""

from .backoff import Backoff
from .compat import const, sleep_ms, ticks_add, ticks_diff, ticks_ms

_CHECK_INTERVAL_MS = const(1000)
_JOIN_TIMEOUT_MS = const(15000)
ACTION_NONE = 0
ACTION_JOIN = 1


class WifiSupervisor:
    """Keeps the station joined to the configured network and tells the device when it drops or returns."""

    def __init__(self, hal, wifi, log, on_change=None, backoff=None, check_interval_ms=_CHECK_INTERVAL_MS):
        self.hal = hal
        self.ssid = wifi["ssid"] if wifi else None
        self.password = wifi.get("password", "") if wifi else ""
        self.power_save = bool(wifi.get("power_save", False)) if wifi else False
        self.log = log
        self.on_change = on_change  # callable(connected: bool)
        self.backoff = backoff or Backoff(base=1, cap=60, floor=0.5)
        self.check_interval_ms = check_interval_ms
        self.connected = False
        self.joins = 0  # successful joins, for /status and tests
        self.drops = 0
        self._next_attempt = None  # ticks when a join may be tried again; None: at once

    # ---- decisions (pure) --------------------------------------------------------------

    def observe(self, connected, now):
        """Record the link state seen at `now`; return ACTION_JOIN when a join should be tried."""
        if connected:
            if not self.connected:
                self._set(True)
            return ACTION_NONE
        if self.connected:
            self.drops += 1
            self._set(False)
            self._next_attempt = None  # a drop is retried at once, then with backoff
        if self._next_attempt is None or ticks_diff(now, self._next_attempt) >= 0:
            return ACTION_JOIN
        return ACTION_NONE

    def join_result(self, joined, now):
        """After a join attempt: reset the backoff on success, else schedule the next attempt."""
        if joined:
            self.joins += 1
            self.backoff.reset()
            self._next_attempt = None
            self._set(True)
            return 0
        delay = self.backoff.next()
        self._next_attempt = ticks_add(now, int(delay * 1000))
        return delay

    def _set(self, connected):
        self.connected = connected
        if connected:
            self.log.info("Wi-Fi joined" + (" (" + self.ssid + ")" if self.ssid else ""))
        else:
            self.log.warning("Wi-Fi lost")
        if self.on_change is not None:
            self.on_change(connected)

    # ---- glue (async) ------------------------------------------------------------------

    async def run(self):
        """Supervise forever (cancel the task to stop): the web server and lights run meanwhile."""
        self.hal.wifi_configure(self.power_save)
        while True:
            if self.observe(self.hal.wifi_connected(), ticks_ms()) == ACTION_JOIN:  # one attempt now
                joined = await self.hal.wifi_join(self.ssid, self.password, _JOIN_TIMEOUT_MS)
                delay = self.join_result(joined, ticks_ms())
                if not joined:
                    self.log.warning("Wi-Fi not joined, trying again in " + str(int(delay * 1000)) + " ms")
            await sleep_ms(self.check_interval_ms)
