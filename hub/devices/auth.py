"""Device authentication: HTTP Basic with the device id and its own secret."""

import binascii
from base64 import b64decode

from devices.models import Device
from devices.services import device_authenticate


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


def device_from_authorization(header: str | bytes | None) -> Device | None:
    """The device whose Basic credentials are in this Authorization header, or None."""
    credentials = parse_basic(header)
    if credentials is None:
        return None
    return device_authenticate(device_id=credentials[0], secret=credentials[1])
