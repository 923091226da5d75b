"""MQTT bridge app configuration."""

from django.apps import AppConfig


class MqttBridgeConfig(AppConfig):
    """The MQTT / Home Assistant bridge."""

    name = "mqtt_bridge"
    verbose_name = "MQTT bridge"
