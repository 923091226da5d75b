"""Button debouncing: one press per push, bounces ignored, releases are not presses."""

import unittest

from ..buttons import ButtonWatcher


class ButtonWatcherTest(unittest.TestCase):
    def test_one_press_per_push(self):
        watcher = ButtonWatcher(debounce_ms=30)
        presses = [
            watcher.update(4, level, now) for now, level in ((0, False), (10, True), (45, True), (60, True))
        ]
        self.assertEqual(presses, [False, False, True, False])

    def test_bounces_are_ignored(self):
        watcher = ButtonWatcher(debounce_ms=30)
        watcher.update(4, False, 0)
        for now, level in ((10, True), (15, False), (20, True), (25, False)):
            self.assertFalse(watcher.update(4, level, now))
        self.assertFalse(watcher.update(4, False, 100))

    def test_release_then_press_again(self):
        watcher = ButtonWatcher(debounce_ms=20)
        events = []
        timeline = [(0, False), (5, True), (30, True), (40, False), (70, False), (80, True), (110, True)]
        for now, level in timeline:
            if watcher.update(7, level, now):
                events.append(now)
        self.assertEqual(events, [30, 110])

    def test_pins_are_independent(self):
        watcher = ButtonWatcher(debounce_ms=10)
        watcher.update(1, False, 0)
        watcher.update(2, False, 0)
        watcher.update(1, True, 5)
        self.assertTrue(watcher.update(1, True, 20))
        self.assertFalse(watcher.update(2, False, 20))


if __name__ == "__main__":
    unittest.main()
