"""Device authentication: HTTP Basic with the device id and its own secret."""

import binascii
from base64 import b64decode

from django.conf import settings

from lamplighter.devices.models import Device
from lamplighter.devices.services import device_authenticate
from lamplighter.infra import metrics
from lamplighter.infra.throttle import athrottle_blocked, throttle_blocked, throttle_failed

THROTTLE_SCOPE = "device-auth"
THROTTLED = {"error": "too many failed device authentications from this address; try again later"}


def parse_basic(header: str | bytes | None) -> tuple[str, str] | None:
    """Return (user, password) from an Authorization header value, or None when it is not Basic."""
    if not header:
        return None
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > 1024:
        return None
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    if not separator:
        return None
    return user, password


def address_throttled(address: str) -> bool:
    """True while this client address has failed device authentication too often (answer 429)."""
    limit = settings.LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES
    return bool(address) and throttle_blocked(scope=THROTTLE_SCOPE, identity=address, limit=limit)


async def aaddress_throttled(address: str) -> bool:
    """address_throttled, awaited in the event loop."""
    limit = settings.LAMPLIGHTER_DEVICE_AUTH_MAX_FAILURES
    return bool(address) and await athrottle_blocked(scope=THROTTLE_SCOPE, identity=address, limit=limit)


def authentication_failed(address: str) -> None:
    """Count a failed device authentication against the client address."""
    metrics.DEVICE_AUTH_FAILURES.inc()
    if address:
        window = settings.LAMPLIGHTER_DEVICE_AUTH_WINDOW_SECONDS
        throttle_failed(scope=THROTTLE_SCOPE, identity=address, window_seconds=window)


def device_from_authorization(header: str | bytes | None, address: str = "") -> Device | None:
    """The device whose Basic credentials are in this Authorization header, or None (counted as a failure)."""
    credentials = parse_basic(header)
    device = device_authenticate(device_id=credentials[0], secret=credentials[1]) if credentials else None
    if device is None:
        authentication_failed(address)
    return device
