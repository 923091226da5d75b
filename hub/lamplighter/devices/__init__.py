"""Devices: registration, credentials, presence, the device WebSocket and HTTP routes, delivery."""
