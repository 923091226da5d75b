"""WebSocket middleware: put the device named by Basic credentials into the scope."""

from typing import Any

from devices.auth import address_throttled, device_from_authorization
from lamplighter import dbbatch


class DeviceAuthMiddleware:
    """Sets scope["device"] to the authenticated device, or None (the consumer then refuses)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers") or []).get(b"authorization")
        client = scope.get("client") or ("", 0)
        # Batched with other sockets' database work (a connect storm authenticates thousands).
        device = await dbbatch.run(_authorize, header, str(client[0]))
        return await self.app(dict(scope, device=device), receive, send)


def _authorize(header: bytes | None, address: str) -> Any:
    """The device, or None when the credentials are wrong or the address is throttled."""
    if address_throttled(address):
        return None
    return device_from_authorization(header, address)
