"""Homes app configuration."""

from django.apps import AppConfig


class HomesConfig(AppConfig):
    """Homes, memberships and rooms."""

    name = "lamplighter.homes"
    label = "homes"
