"""The logger and the compat helpers it relies on: secrets never printed, levels honoured."""

import unittest

from firmware import compat, log


class FakeHal:
    def __init__(self):
        self.lines = []

    def display(self, line):
        self.lines.append(line)


class LoggerTest(unittest.TestCase):
    def test_secrets_are_masked_on_every_output(self):
        hal = FakeHal()
        logger = log.Logger("dev-1", hal, secrets=["hunter2-secret"], echo=False)
        logger.add_secret("lan-token-1234")
        logger.error("auth with hunter2-secret and lan-token-1234 failed")
        self.assertEqual(hal.lines, ["ERROR dev-1: auth with *** and *** failed"])

    def test_levels(self):
        hal = FakeHal()
        logger = log.Logger("dev-1", hal, level=log.WARNING, echo=False)
        logger.info("quiet")
        logger.debug("quieter")
        logger.warning("loud")
        self.assertEqual(hal.lines, ["WARN dev-1: loud"])

    def test_tiny_values_are_not_treated_as_secrets(self):
        logger = log.Logger("dev-1", None, secrets=["", "a"], echo=False)
        self.assertEqual(logger.redact("a cat"), "a cat")


class CompatTest(unittest.TestCase):
    def test_constant_time_equal(self):
        self.assertTrue(compat.constant_time_equal("abc", "abc"))
        self.assertTrue(compat.constant_time_equal(b"", ""))
        self.assertFalse(compat.constant_time_equal("abc", "abd"))
        self.assertFalse(compat.constant_time_equal("abc", "abcd"))
        self.assertFalse(compat.constant_time_equal("", "x"))

    def test_ticks(self):
        start = compat.ticks_ms()
        later = compat.ticks_add(start, 1500)
        self.assertEqual(compat.ticks_diff(later, start), 1500)

    def test_random(self):
        self.assertEqual(len(compat.token_hex(8)), 16)
        self.assertTrue(0 <= compat.random_fraction() < 1)


if __name__ == "__main__":
    unittest.main()
