"""OTA app configuration."""

from django.apps import AppConfig


class OtaConfig(AppConfig):
    """Firmware artifacts, rollouts and per-device update jobs."""

    name = "lamplighter.ota"
    label = "ota"
    verbose_name = "Firmware updates"
