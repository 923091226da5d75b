"""Device tools: the firmware bundle, MicroPython devices, a lean protocol client, load-test data."""
