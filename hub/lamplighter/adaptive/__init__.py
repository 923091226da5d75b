"""Adaptive white: lights that follow the sun's curve through the day, with the fades run on the device."""
