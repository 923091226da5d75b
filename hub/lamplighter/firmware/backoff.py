"""Exponential backoff with full jitter, a cap, and reset on success."""

from .compat import random_fraction


class Backoff:
    """Delays for retries: attempt n waits a random time in [floor, min(cap, base * factor**n))."""

    def __init__(self, base=1.0, cap=60.0, factor=2.0, floor=0.0, random=random_fraction):
        self.base = base
        self.floor = floor
        self.cap = cap
        self.factor = factor
        self.attempt = 0
        self._random = random

    def ceiling(self):
        """The upper bound of the next delay, in seconds."""
        return min(self.cap, self.base * (self.factor**self.attempt))

    def next(self):
        """Return the next delay in seconds and count the attempt."""
        ceiling = self.ceiling()
        # Stop growing once capped: the exponent must not overflow on a long outage.
        if ceiling < self.cap:
            self.attempt += 1
        return max(self.floor, ceiling * self._random())

    def reset(self):
        """Start again from the smallest delay (after a success)."""
        self.attempt = 0
