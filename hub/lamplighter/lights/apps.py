"""Lights app configuration."""

from django.apps import AppConfig


class LightsConfig(AppConfig):
    """Lights."""

    name = "lamplighter.lights"
    label = "lights"
