"""Physical buttons, one per light (optional): raw levels in, debounced presses out.

ButtonWatcher is synchronous and pure (proven under MicroPython); the device polls the
hardware layer's button_pressed(pin) and feeds the levels in.
"""

from .compat import const, ticks_diff

_DEBOUNCE_MS = const(30)
POLL_INTERVAL_MS = 20


class ButtonWatcher:
    """One press per push: a level must hold for the debounce time before it counts."""

    def __init__(self, debounce_ms=_DEBOUNCE_MS):
        self.debounce_ms = debounce_ms
        self._pins = {}  # pin -> [raw level, since ticks, stable level]

    def update(self, pin, pressed, now):
        """Feed the level read at `now`; True exactly once per debounced press."""
        state = self._pins.get(pin)
        if state is None:
            self._pins[pin] = [pressed, now, False]
            return False
        if pressed != state[0]:
            state[0] = pressed
            state[1] = now
            return False
        if pressed != state[2] and ticks_diff(now, state[1]) >= self.debounce_ms:
            state[2] = pressed
            return pressed
        return False
