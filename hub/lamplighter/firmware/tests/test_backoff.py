"""Backoff: exponential growth, full jitter, cap, floor, reset."""

import unittest

from ..backoff import Backoff


class BackoffTest(unittest.TestCase):
    def test_grows_exponentially_up_to_the_cap(self):
        backoff = Backoff(base=1, cap=10, random=lambda: 0.999999)
        delays = [backoff.next() for _ in range(8)]
        self.assertAlmostEqual(delays[0], 1, places=3)
        self.assertAlmostEqual(delays[1], 2, places=3)
        self.assertAlmostEqual(delays[2], 4, places=3)
        self.assertAlmostEqual(delays[3], 8, places=3)
        for delay in delays[4:]:
            self.assertAlmostEqual(delay, 10, places=3)

    def test_full_jitter_stays_in_range(self):
        backoff = Backoff(base=1, cap=60)
        for attempt in range(20):
            ceiling = backoff.ceiling()
            delay = backoff.next()
            self.assertTrue(0 <= delay <= ceiling, (attempt, delay, ceiling))

    def test_floor(self):
        backoff = Backoff(base=1, cap=5, floor=0.5, random=lambda: 0.0)
        self.assertEqual(backoff.next(), 0.5)

    def test_reset(self):
        backoff = Backoff(base=1, cap=100, random=lambda: 0.999999)
        for _ in range(5):
            backoff.next()
        backoff.reset()
        self.assertAlmostEqual(backoff.next(), 1, places=3)

    def test_attempts_stop_growing_once_capped(self):
        backoff = Backoff(base=1, cap=8)
        for _ in range(10000):
            backoff.next()
        self.assertLessEqual(backoff.attempt, 4)


if __name__ == "__main__":
    unittest.main()
