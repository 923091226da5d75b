"""WebSocket middleware: put the device named by Basic credentials into the scope."""

from typing import Any

from channels.db import database_sync_to_async

from devices.auth import device_from_authorization


class DeviceAuthMiddleware:
    """Sets scope["device"] to the authenticated device, or None (the consumer then refuses)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers") or []).get(b"authorization")
        device = await database_sync_to_async(device_from_authorization)(header) if header else None
        return await self.app(dict(scope, device=device), receive, send)
