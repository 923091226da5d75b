"""Adaptive app configuration."""

from django.apps import AppConfig


class AdaptiveConfig(AppConfig):
    """Adaptive white: the curve, the home's profile, the planner."""

    name = "lamplighter.adaptive"
    label = "adaptive"
