"""Automations app configuration."""

from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    """Scenes and schedules."""

    name = "lamplighter.automations"
    label = "automations"
