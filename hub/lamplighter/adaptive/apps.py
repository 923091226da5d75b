"""Adaptive app configuration."""

from django.apps import AppConfig


class AdaptiveConfig(AppConfig):
    """Adaptive white: the curve, the home's profile, the planner."""

    name = "lamplighter.adaptive"
    label = "adaptive"

    def ready(self) -> None:
        """Watch the lights' write path: a change pauses what it changed, off/on resumes."""
        from lamplighter.adaptive import hooks
        from lamplighter.lights import services

        services.write_watcher = hooks
