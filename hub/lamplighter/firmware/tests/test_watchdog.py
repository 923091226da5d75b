"""The simulated watchdog: armed, fed, expired when the loop stops feeding it."""

import unittest

from ..hal.host import SimulatedWatchdog


class SimulatedWatchdogTest(unittest.TestCase):
    def test_not_armed_never_expires(self):
        self.assertFalse(SimulatedWatchdog().expired(10**6))

    def test_feeding_keeps_it_quiet(self):
        watchdog = SimulatedWatchdog()
        watchdog.start(1000, 0)
        for now in range(0, 10000, 250):
            watchdog.feed(now)
            self.assertFalse(watchdog.expired(now + 999))
        self.assertEqual(watchdog.feeds, 40)

    def test_a_hung_loop_expires(self):
        watchdog = SimulatedWatchdog()
        watchdog.start(1000, 0)
        watchdog.feed(500)
        self.assertFalse(watchdog.expired(1500))
        self.assertTrue(watchdog.expired(1501))


if __name__ == "__main__":
    unittest.main()
