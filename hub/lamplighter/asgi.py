"""ASGI entry point: Django for HTTP, Channels for the device and dashboard WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from lamplighter.lifespan import LifespanApp  # noqa: E402
from lamplighter.routing import websocket_application  # noqa: E402 - needs Django set up first

application = LifespanApp(ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application}))
