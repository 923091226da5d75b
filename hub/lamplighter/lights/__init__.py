"""Lights with their desired and reported states (the device-shadow model)."""
