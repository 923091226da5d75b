"""REST endpoints for devices: list, register (secret shown once), rotate the secret (owners)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from lamplighter.devices import selectors, services
from lamplighter.homes import permissions
from lamplighter.homes.selectors import home_get
from lamplighter.infra.api_types import DatabaseId, Error, InputSchema

router = Router(tags=["devices"])


class DeviceOut(Schema):
    """A device and what it last reported (never its credentials)."""

    id: int
    device_id: str
    name: str
    home_id: DatabaseId
    online: bool
    last_seen: datetime | None
    connection: str | None
    mode: str | None
    firmware_version: str | None
    board: str | None
    lan_url: str | None
    uptime: int | None
    free_memory: int | None
    rssi: int | None


class DeviceCreated(DeviceOut):
    """A newly registered device with its secret: shown this once, never again."""

    secret: str


class DeviceIn(InputSchema):
    """A device to register."""

    home_id: DatabaseId
    name: str


class DevicePatch(InputSchema):
    """A device's new name."""

    name: str


class SecretOut(Schema):
    """A new device secret, shown once."""

    device_id: str
    secret: str


@router.get("/devices", response=list[DeviceOut])
def device_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[dict]:
    """Devices of the caller's homes."""
    return [selectors.device_payload(d) for d in selectors.device_list(user=request.user, home_id=home_id)]


@router.get("/devices/{device_pk}", response={200: DeviceOut, 404: Error})
def device_detail(request: HttpRequest, device_pk: DatabaseId) -> dict:
    """One device."""
    return selectors.device_payload(selectors.device_get(user=request.user, device_pk=device_pk))


@router.post("/devices", response={201: DeviceCreated, 400: Error, 403: Error, 404: Error})
def device_register(request: HttpRequest, payload: DeviceIn) -> Status[dict]:
    """Register a device (owners); the answer holds its secret, which the hub keeps only as a hash."""
    home = home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    device, secret = services.device_register(home=home, name=payload.name)
    return Status(201, dict(selectors.device_payload(device), secret=secret))


@router.patch("/devices/{device_pk}", response={200: DeviceOut, 400: Error, 403: Error, 404: Error})
def device_update(request: HttpRequest, device_pk: DatabaseId, payload: DevicePatch) -> dict:
    """Rename a device (owners)."""
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    permissions.home_require_owner(user=request.user, home=device.home)
    return selectors.device_payload(services.device_rename(device=device, name=payload.name))


@router.delete("/devices/{device_pk}", response={204: None, 403: Error, 404: Error})
def device_delete(request: HttpRequest, device_pk: DatabaseId) -> Status[None]:
    """Delete a device (owners); its lights stay, without a device."""
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    permissions.home_require_owner(user=request.user, home=device.home)
    services.device_delete(device=device)
    return Status(204, None)


@router.post("/devices/{device_pk}/rotate-secret", response={200: SecretOut, 403: Error, 404: Error})
def device_rotate_secret(request: HttpRequest, device_pk: DatabaseId) -> dict:
    """Give the device a new secret (owners); the old one stops working at once."""
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    permissions.home_require_owner(user=request.user, home=device.home)
    return {"device_id": device.device_id, "secret": services.device_rotate_secret(device=device)}


class PairingCodeIn(InputSchema):
    """The home a new device will join."""

    home_id: DatabaseId


class PairingCodeOut(Schema):
    """A one-time pairing code, shown once: type it into the device's setup page before it expires."""

    code: str
    home_id: DatabaseId
    expires_at: datetime


class DeviceLogLineOut(Schema):
    """One line of a device's log."""

    id: int
    seq: int
    uptime: int
    level: str
    text: str
    received_at: datetime | None


@router.post("/pairing-codes", response={201: PairingCodeOut, 403: Error, 404: Error})
def pairing_code_create(request: HttpRequest, payload: PairingCodeIn) -> Status[dict]:
    """Make a one-time pairing code for a home (owners): single use, expires in 10 minutes."""
    home = home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    pairing, code = services.pairing_code_create(home=home, user=request.user)
    return Status(201, {"code": code, "home_id": home.pk, "expires_at": pairing.expires_at})


@router.get("/devices/{device_pk}/logs", response={200: list[DeviceLogLineOut], 404: Error})
def device_logs(request: HttpRequest, device_pk: DatabaseId) -> list[dict]:
    """The device's most recent log lines (as it sent them, secrets already masked), oldest first."""
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    return selectors.device_log_lines(device=device)
