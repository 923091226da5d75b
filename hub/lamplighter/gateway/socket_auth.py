"""Authentication of a device's WebSocket, done in the consumer's connect with recording the socket."""

from typing import Any

from lamplighter.devices import services
from lamplighter.devices.auth import address_throttled, device_from_authorization
from lamplighter.devices.models import Device


def authorize_and_record(header: bytes | None, address: str, channel_name: str) -> Device | None:
    """The device named by these Basic credentials, its new socket recorded; None when the
    credentials are wrong or the address is throttled (the consumer then refuses).

    One call to the database thread for both: a connect storm of 10,000 devices made them two,
    each with its savepoint in the batch (lamplighter.infra.dbbatch).
    """
    if address_throttled(address):
        return None
    device = device_from_authorization(header, address)
    if device is not None:
        # Read whole just now, in this transaction: its presence is not read again.
        services.device_seen(
            device=device, connection=Device.Connection.WEBSOCKET, channel_name=channel_name, fresh=True
        )
    return device


def authorization_of(scope: dict[str, Any]) -> tuple[bytes | None, str]:
    """The handshake's Authorization header and the client's address."""
    client = scope.get("client") or ("", 0)
    return dict(scope.get("headers") or []).get(b"authorization"), str(client[0])
