"""The logger and the compat helpers it relies on: secrets never printed, levels honoured."""

import unittest

from .. import compat, log


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


class LogBufferTest(unittest.TestCase):
    def test_lines_are_kept_masked_with_sequence_numbers(self):
        logger = log.Logger("dev-1", None, secrets=["hunter2-secret"], echo=False)
        logger.info("password hunter2-secret")
        logger.debug("not kept: below the level")
        lines, dropped = logger.buffer.take(10)
        self.assertEqual(lines, [[0, 0, "INFO", "INFO dev-1: password ***"]])
        self.assertEqual(dropped, 0)

    def test_bounded_oldest_dropped_and_counted(self):
        buffer = log.LogBuffer(capacity=3)
        for index in range(5):
            buffer.append("INFO", "line " + str(index))
        lines, dropped = buffer.take(10)
        self.assertEqual([line[3] for line in lines], ["line 2", "line 3", "line 4"])
        self.assertEqual(dropped, 2)
        self.assertEqual(buffer.take(10), ([], 0))

    def test_take_in_batches_and_put_back(self):
        buffer = log.LogBuffer(capacity=4)
        for index in range(4):
            buffer.append("WARN", "w" + str(index))
        first, dropped = buffer.take(2)
        buffer.append("INFO", "new")  # arrives while the batch is in flight
        buffer.put_back(first, dropped)  # sending failed: back in front, the oldest (w0) no longer fits
        self.assertEqual([line[3] for line in buffer.lines], ["w1", "w2", "w3", "new"])
        self.assertEqual(buffer.dropped, 1)

    def test_long_lines_are_cut_and_listener_called(self):
        calls = []
        buffer = log.LogBuffer()
        buffer.listener = lambda: calls.append(1)
        buffer.append("ERROR", "x" * 500)
        self.assertEqual(len(buffer.lines[0][3]), log.MAX_LINE_LENGTH)
        self.assertEqual(calls, [1])

    def test_log_line_limits_match_the_protocol(self):
        from .. import protocol

        self.assertEqual(log.MAX_LINE_LENGTH, protocol.MAX_LOG_LINE_LENGTH)
        for name in log.LEVEL_NAMES.values():
            self.assertIn(name, protocol.LOG_LEVELS)


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
