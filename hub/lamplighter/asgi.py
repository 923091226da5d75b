"""ASGI entry point: Django for HTTP, Channels for the device and dashboard WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.signals import request_finished  # noqa: E402
from django.db import connections  # noqa: E402

from lamplighter.gateway.poll import PollRoute  # noqa: E402
from lamplighter.lights.fastpath import LightStateRoute  # noqa: E402
from lamplighter.serving.health import HealthRoute  # noqa: E402
from lamplighter.serving.lifespan import LifespanApp  # noqa: E402
from lamplighter.serving.routing import websocket_application  # noqa: E402 - needs Django set up first


def close_request_connections(**kwargs: object) -> None:
    """A Django request's database connections close with it (CONN_MAX_AGE applies only to the
    long-lived sync thread that consumers and the poll route share): under ASGI each request
    has its own context, and a kept connection would wait for the garbage collector."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:  # a test's wrapping transaction stays open
            connection.close()


request_finished.connect(close_request_connections)

# Health, readiness and metrics, the device poll route and a token's light state call are
# answered before Django's middleware (see health, devices.poll, lights.fastpath); everything
# else goes through it.
application = LifespanApp(
    ProtocolTypeRouter(
        {
            "http": HealthRoute(PollRoute(LightStateRoute(django_asgi_app))),
            "websocket": websocket_application,
        }
    )
)
