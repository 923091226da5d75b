"""Test helpers that work on CPython and MicroPython alike."""

import json

from ..compat import join_path, os
from ..hal.host import HostHal

SAMPLES_DIR = join_path(__file__.rsplit("/", 1)[0] if "/" in __file__ else ".", "samples")

try:
    import tempfile
except ImportError:  # pragma: no cover - MicroPython
    tempfile = None

_counter = [0]


def make_folder():
    """A fresh empty folder (the test's flash)."""
    if tempfile is not None:
        return tempfile.mkdtemp(prefix="lamplighter-fw-")
    _counter[0] += 1  # pragma: no cover
    path = "/tmp-lamplighter-" + str(_counter[0])  # pragma: no cover
    os.mkdir(path)  # pragma: no cover
    return path  # pragma: no cover


def remove_folder(path):
    """Delete a folder made by make_folder, files first (no shutil on MicroPython)."""
    for name in os.listdir(path):
        os.remove(join_path(path, name))
    os.rmdir(path)


class ClockedHal(HostHal):
    """The host hardware layer with a clock the test sets (self.now, in ticks_ms)."""

    def __init__(self, flash_root):
        super().__init__(flash_root)
        self.now = 1000

    def ticks_ms(self):
        """The test's time."""
        return self.now


def load_sample(message_type):
    """The golden sample of a message type, as raw text."""
    with open(join_path(SAMPLES_DIR, message_type + ".json")) as handle:
        return handle.read()


def load_sample_json(message_type):
    """The golden sample of a message type, decoded."""
    return json.loads(load_sample(message_type))
