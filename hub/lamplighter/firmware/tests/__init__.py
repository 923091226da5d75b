"""Firmware tests: unittest.TestCase for pure modules (MicroPython-ready), pytest for sockets."""
