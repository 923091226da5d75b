"""The optional MQTT bridge: lights and scenes in Home Assistant through MQTT discovery."""
