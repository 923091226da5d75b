"""Serving app configuration: registers the middleware chain's deployment checks."""

from django.apps import AppConfig


class ServingConfig(AppConfig):
    """The server side of the hub: middleware chain, health, the REST API's assembly (no models)."""

    name = "lamplighter.serving"
    label = "serving"

    def ready(self) -> None:
        """Register the middleware chain's deployment checks (security.W001-W003's stand-ins)."""
        from lamplighter.serving import middleware  # noqa: F401 - registers its checks on import
