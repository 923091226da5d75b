"""Dashboard app configuration."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The web dashboard."""

    name = "lamplighter.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        """Register the middleware chain's deployment checks (lamplighter.middleware)."""
        from lamplighter import middleware  # noqa: F401 - registers its checks on import
