"""The hardware layer: picks the ESP32 or the host (simulator) implementation once, by runtime."""

import sys


def create(**options):
    """Return the hardware object for this runtime; options go to its constructor."""
    if sys.implementation.name == "micropython":
        from .esp32 import Esp32Hal

        return Esp32Hal(**options)
    from .host import HostHal

    return HostHal(**options)
