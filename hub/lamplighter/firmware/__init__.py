"""Lamplighter firmware: MicroPython on ESP32 boards, and the device simulator on CPython."""
