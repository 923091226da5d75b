"""REST endpoints for lights: read, create/edit (owners), and set the desired state (members)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool

from lamplighter.api_types import DatabaseId
from lamplighter.devices.models import Device
from lamplighter.homes import permissions
from lamplighter.homes.selectors import home_get, room_get
from lamplighter.lights import selectors, services
from lamplighter.lights.models import Light

router = Router(tags=["lights"])


class LightOut(Schema):
    """A light: its desired state, the state its device reported, and whether they still differ."""

    id: int
    name: str
    room: str
    room_id: DatabaseId
    home_id: DatabaseId
    device: str | None
    device_name: str | None
    desired_on: bool
    desired_version: int
    desired_at: datetime | None
    reported_on: bool | None
    reported_version: int | None
    reported_at: datetime | None
    pending: bool


class LightIn(Schema):
    """A new light."""

    room_id: DatabaseId
    name: str
    device_id: str | None = None


class LightPatch(Schema):
    """Changes to a light (fields left out keep their value)."""

    name: str | None = None
    room_id: DatabaseId | None = None
    device_id: str | None = None


class LightStateIn(Schema):
    """A desired state."""

    on: StrictBool


class Error(Schema):
    """An error."""

    detail: str


def _device(light_home_id: int, device_id: str | None) -> Device | None:
    if not device_id:
        return None
    return Device.objects.get(home_id=light_home_id, device_id=device_id)


@router.get("/lights", response=list[LightOut])
def light_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[dict]:
    """Lights of the caller's homes."""
    return [
        selectors.light_payload(light) for light in selectors.light_list(user=request.user, home_id=home_id)
    ]


@router.get("/lights/{light_id}", response={200: LightOut, 404: Error})
def light_detail(request: HttpRequest, light_id: DatabaseId) -> dict:
    """One light."""
    return selectors.light_payload(selectors.light_get(user=request.user, light_id=light_id))


@router.post("/lights", response={201: LightOut, 400: Error, 403: Error, 404: Error})
def light_create(request: HttpRequest, payload: LightIn) -> Status[dict]:
    """Add a light (owners)."""
    room = room_get(user=request.user, room_id=payload.room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    light = services.light_create(
        room=room, name=payload.name, device=_device(room.home_id, payload.device_id)
    )
    return Status(
        201, selectors.light_payload(Light.objects.select_related("room", "device").get(pk=light.pk))
    )


@router.patch("/lights/{light_id}", response={200: LightOut, 400: Error, 403: Error, 404: Error})
def light_update(request: HttpRequest, light_id: DatabaseId, payload: LightPatch) -> dict:
    """Rename a light, move it, or give it another device (owners; device_id "" removes it)."""
    light = selectors.light_get(user=request.user, light_id=light_id)
    permissions.home_require_owner(user=request.user, home=light.room.home)
    room = room_get(user=request.user, room_id=payload.room_id) if payload.room_id is not None else light.room
    device = light.device if payload.device_id is None else _device(light.room.home_id, payload.device_id)
    services.light_update(light=light, name=payload.name or light.name, room=room, device=device)
    return selectors.light_payload(selectors.light_get(user=request.user, light_id=light_id))


@router.delete("/lights/{light_id}", response={204: None, 403: Error, 404: Error})
def light_delete(request: HttpRequest, light_id: DatabaseId) -> Status[None]:
    """Delete a light (owners)."""
    light = selectors.light_get(user=request.user, light_id=light_id)
    permissions.home_require_owner(user=request.user, home=light.room.home)
    services.light_delete(light=light)
    return Status(204, None)


@router.post("/lights/{light_id}/state", response={202: LightOut, 404: Error})
def light_set_state(request: HttpRequest, light_id: DatabaseId, payload: LightStateIn) -> Status[dict]:
    """Ask for a state: stored at once, delivered to the device; `pending` until it confirms."""
    light = selectors.light_get(user=request.user, light_id=light_id)
    return Status(202, selectors.light_payload(services.light_set_desired(light=light, on=payload.on)))


@router.post("/homes/{home_id}/lights/state", response={202: list[LightOut], 404: Error})
def home_lights_set_state(request: HttpRequest, home_id: DatabaseId, payload: LightStateIn) -> Status[list]:
    """Ask every light of a home for one state ("all off"): stored at once, one message per device."""
    home = home_get(user=request.user, home_id=home_id)
    lights = Light.objects.filter(room__home=home)
    return Status(202, services.lights_set_desired(lights=lights, on=payload.on))
