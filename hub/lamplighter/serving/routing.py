"""WebSocket routes: devices authenticate with Basic credentials, browsers with their session."""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from lamplighter.dashboard.consumers import DASHBOARD_WEBSOCKET_PATH, DashboardConsumer
from lamplighter.firmware import protocol
from lamplighter.gateway.consumers import DeviceConsumer

websocket_application = URLRouter(
    [
        path(protocol.HUB_WEBSOCKET_PATH.lstrip("/"), DeviceConsumer.as_asgi()),
        path(
            DASHBOARD_WEBSOCKET_PATH,
            AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi())),
        ),
    ]
)
