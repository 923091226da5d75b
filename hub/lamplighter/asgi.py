"""ASGI entry point: Django for HTTP (every request through its middleware and URL routing),
Channels for the device and dashboard WebSockets."""

import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, ASGIRequest  # noqa: E402
from django.db import close_old_connections  # noqa: E402

from lamplighter.health import PROBE_PATHS  # noqa: E402
from lamplighter.lifespan import LifespanApp  # noqa: E402
from lamplighter.routing import websocket_application  # noqa: E402 - needs Django set up first


class HubRequest(ASGIRequest):
    """A request whose host is checked against ALLOWED_HOSTS, except a liveness or readiness
    probe's (an orchestrator knows only the address)."""

    def get_host(self) -> str:
        """The host, validated (DisallowedHost: 400) unless this is a probe."""
        if self.path in PROBE_PATHS:
            return self._get_raw_host()
        return super().get_host()


class HubASGIHandler(ASGIHandler):
    """Django's ASGI handler without a thread of its own per request.

    Django gives each request a ThreadSensitiveContext, so its sync work (a sync view, closing
    the response) runs in a new thread with a new database connection (SQLite: four PRAGMAs,
    ~1 ms). Here it all runs in the one database thread that consumers and lamplighter.dbthread
    use: its connection is kept (CONN_MAX_AGE), and old ones are closed around each call there.
    """

    request_class = HubRequest

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one HTTP request."""
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        await self.handle(scope, receive, send)


# The database thread closes old connections around each call itself (dbthread, Channels); on
# request start and end the loop has none, and asking would cost a thread hand-over each.
signals.request_started.disconnect(close_old_connections)
signals.request_finished.disconnect(close_old_connections)

application = LifespanApp(
    ProtocolTypeRouter({"http": HubASGIHandler(), "websocket": websocket_application})
)
