"""Keeps the device's long-lived tasks alive: a failure is logged, restarted with backoff, or rebooted.

A task that ends with an unexpected exception (MemoryError included) is logged with its cause
(the logger masks secrets, and the hub gets the line in its next log.batch), then run again
after a backoff delay. When failures repeat (more than `limit` within `window_ms`), the device
gives up on itself and restarts cleanly: state is on flash, the watchdog stops being fed, and
the board reboots (docs/firmware.md, "Never half-alive").
"""

import gc

from .backoff import Backoff
from .compat import asyncio, const, exception_text, ticks_diff, ticks_ms

_DEFAULT_LIMIT = const(5)
_DEFAULT_WINDOW_MS = const(120000)
# A task that ran this long before failing starts its backoff again from the smallest delay.
_HEALTHY_MS = const(30000)


class Supervisor:
    """Runs named tasks; counts their failures; asks for a reboot when failures repeat."""

    def __init__(self, log, reboot, limit=_DEFAULT_LIMIT, window_ms=_DEFAULT_WINDOW_MS):
        self.log = log
        self.reboot = reboot  # called once with the reason when failures repeat
        self.limit = limit
        self.window_ms = window_ms
        self.failures = {}  # task name -> failures counted so far (diagnostics, tests)
        self.gave_up = False
        self._recent = []  # ticks of recent failures, any task
        self._backoffs = {}

    def failed(self, name, error):
        """Record one failure of task `name`; the seconds to wait before running it again."""
        if isinstance(error, MemoryError):
            gc.collect()  # what the failed task held is garbage now; the log line needs room
        self.failures[name] = self.failures.get(name, 0) + 1
        self.log.error(name + " failed: " + exception_text(error))
        now = ticks_ms()
        self._recent = [when for when in self._recent if ticks_diff(now, when) < self.window_ms]
        self._recent.append(now)
        if len(self._recent) > self.limit and not self.gave_up:
            self.gave_up = True
            self.reboot(str(len(self._recent)) + " task failures within " + str(self.window_ms // 1000) + " s")
        backoff = self._backoffs.get(name)
        if backoff is None:
            backoff = self._backoffs[name] = Backoff(base=0.5, cap=30, floor=0.2)
        return backoff.next()

    async def run(self, name, start):
        """Run start() until it returns; restart it after each unexpected failure (cancel to stop)."""
        while True:
            started = ticks_ms()
            try:
                return await start()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure: MemoryError, a bug, a bad state
                if ticks_diff(ticks_ms(), started) > _HEALTHY_MS and name in self._backoffs:
                    self._backoffs[name].reset()
                delay = self.failed(name, error)
            if self.gave_up:
                return None
            await asyncio.sleep(delay)
