"""Adaptive app configuration."""

from django.apps import AppConfig


class AdaptiveConfig(AppConfig):
    """Adaptive white: the curve, the home's profile, the planner."""

    name = "lamplighter.adaptive"
    label = "adaptive"

    def ready(self) -> None:
        """A person's change on the device itself pauses what they changed (lights.services calls it)."""
        from lamplighter.adaptive import hooks
        from lamplighter.lights import services

        if hooks.device_manual_change not in services.MANUAL_CHANGE_HOOKS:
            services.MANUAL_CHANGE_HOOKS.append(hooks.device_manual_change)
