"""Wi-Fi supervision decisions: join at start, a drop, re-join with backoff, no busy retries."""

import unittest

from .. import wifi
from ..backoff import Backoff


class QuietLog:
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(message)

    warning = info


class WifiSupervisorTest(unittest.TestCase):
    def setUp(self):
        self.changes = []
        self.log = QuietLog()
        backoff = Backoff(base=1, cap=8, random=lambda: 0.999999)
        self.supervisor = wifi.WifiSupervisor(
            None, {"ssid": "home", "password": "pw"}, self.log, self.changes.append, backoff
        )

    def test_joins_at_start(self):
        self.assertEqual(self.supervisor.observe(False, 0), wifi.ACTION_JOIN)
        self.supervisor.join_result(True, 10)
        self.assertTrue(self.supervisor.connected)
        self.assertEqual((self.supervisor.joins, self.changes), (1, [True]))
        self.assertEqual(self.supervisor.observe(True, 1000), wifi.ACTION_NONE)

    def test_failed_joins_back_off(self):
        self.assertEqual(self.supervisor.observe(False, 0), wifi.ACTION_JOIN)
        self.assertAlmostEqual(self.supervisor.join_result(False, 0), 1, places=3)
        self.assertEqual(self.supervisor.observe(False, 500), wifi.ACTION_NONE)
        self.assertEqual(self.supervisor.observe(False, 1000), wifi.ACTION_JOIN)
        self.assertAlmostEqual(self.supervisor.join_result(False, 1000), 2, places=3)
        self.assertEqual(self.supervisor.observe(False, 2500), wifi.ACTION_NONE)
        self.assertEqual(self.supervisor.observe(False, 3000), wifi.ACTION_JOIN)

    def test_a_drop_is_noticed_and_retried_at_once(self):
        self.supervisor.observe(False, 0)
        self.supervisor.join_result(True, 0)
        self.assertEqual(self.supervisor.observe(False, 5000), wifi.ACTION_JOIN)
        self.assertEqual((self.supervisor.drops, self.changes), (1, [True, False]))
        self.assertIn("Wi-Fi lost", self.log.lines)
        self.supervisor.join_result(True, 5100)
        self.assertEqual(self.changes, [True, False, True])
        self.assertEqual(self.supervisor.joins, 2)

    def test_a_join_made_elsewhere_counts_as_connected(self):
        self.assertEqual(self.supervisor.observe(True, 0), wifi.ACTION_NONE)
        self.assertEqual(self.changes, [True])

    def test_password_is_never_logged(self):
        self.supervisor.observe(False, 0)
        self.supervisor.join_result(False, 0)
        self.supervisor.join_result(True, 0)
        self.assertFalse(any("pw" in line.split("(")[0] and "pw" in line for line in self.log.lines))

    def test_power_saving_defaults_off(self):
        self.assertFalse(self.supervisor.power_save)
        battery = wifi.WifiSupervisor(None, {"ssid": "h", "password": "", "power_save": True}, self.log)
        self.assertTrue(battery.power_save)


if __name__ == "__main__":
    unittest.main()
