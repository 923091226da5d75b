"""OTA app configuration."""

from django.apps import AppConfig


class OtaConfig(AppConfig):
    """Firmware artifacts, rollouts and per-device update jobs."""

    name = "lamplighter.ota"
    label = "ota"
    verbose_name = "Firmware updates"

    def ready(self) -> None:
        """Plug the OTA device messages and the hello hook into the device message handlers."""
        from lamplighter.gateway import ota_handlers as handlers

        handlers.register()
