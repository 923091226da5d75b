"""Devices app configuration."""

from django.apps import AppConfig


class DevicesConfig(AppConfig):
    """Light controllers and how the hub talks to them."""

    name = "lamplighter.devices"
    label = "devices"
