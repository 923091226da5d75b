"""Dashboard app configuration."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The web dashboard."""

    name = "lamplighter.dashboard"
    label = "dashboard"
