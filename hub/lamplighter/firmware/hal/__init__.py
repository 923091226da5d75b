"""The hardware layer: picks the ESP32 or the host implementation once, by platform.

The host layer serves CPython (the simulator) and MicroPython's unix port alike: what differs
is the hardware, not the Python running the firmware.
"""

import sys


def create(**options):
    """Return the hardware object for this platform; options go to its constructor."""
    if sys.platform == "esp32":
        from .esp32 import Esp32Hal

        return Esp32Hal(**options)
    from .host import HostHal

    return HostHal(**options)
