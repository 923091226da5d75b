"""MQTT bridge app configuration."""

from django.apps import AppConfig


class MqttBridgeConfig(AppConfig):
    """The MQTT / Home Assistant bridge."""

    name = "lamplighter.mqtt_bridge"
    label = "mqtt_bridge"
    verbose_name = "MQTT bridge"
