"""REST endpoints for lights: read, create/edit (owners), and set the desired state (members)."""

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Status
from pydantic import StrictBool

from lamplighter.accounts.api_auth import caller_user_id
from lamplighter.adaptive.services import light_adaptive_set
from lamplighter.devices.models import Device
from lamplighter.homes import permissions
from lamplighter.homes.selectors import home_get, room_get
from lamplighter.infra import dbthread, realtime
from lamplighter.infra.api_types import DatabaseId, Error, InputSchema, PayloadSchema, Refused
from lamplighter.lights import selectors, services
from lamplighter.lights.models import Light
from lamplighter.lights.state import Kelvin, LightStateIn

router = Router(tags=["lights"])


Kind = Literal["onoff", "dimmable", "tunable_white", "rgb"]


class LightOut(PayloadSchema):
    """A light: its desired state, the state its device reported, and whether they still differ.

    brightness, colour temperature and rgb are null for the kinds that lack them; the desired
    ones keep their last values while the light is off.
    """

    id: int
    name: str
    room: str
    room_id: DatabaseId
    home_id: DatabaseId
    device: str | None
    device_name: str | None
    kind: Kind
    min_kelvin: int
    max_kelvin: int
    desired_on: bool
    desired_brightness: int | None
    desired_color_temp_kelvin: int | None
    desired_rgb: list[int] | None
    desired_version: int
    desired_at: datetime | None
    reported_on: bool | None
    reported_brightness: int | None
    reported_color_temp_kelvin: int | None
    reported_rgb: list[int] | None
    reported_version: int | None
    reported_at: datetime | None
    reported_cause: str | None = Field(
        description="What caused the reported state: hub, ha, adaptive, button or web (null: not said)"
    )
    pending: bool
    device_kind: str | None = Field(description="The kind the device's hello announced (null: on/off device)")
    adaptive: bool = Field(
        description="Whether the light follows its home's adaptive curve (docs/adaptive.md)"
    )
    adaptive_state: Literal["following", "paused"] | None = Field(
        description="following, paused (a manual change paused something), or null when not adaptive"
    )
    adaptive_paused: list[Literal["brightness", "color"]] = Field(
        description="What a manual change paused, until the light is turned off and on or resumed"
    )


class LightIn(InputSchema):
    """A new light."""

    room_id: DatabaseId
    name: str
    device_id: str | None = None
    kind: Kind = Field("onoff", description="onoff, dimmable, tunable_white or rgb")
    min_kelvin: Kelvin | None = Field(
        None, description="warmest white of a tunable_white light (2700 when left out)"
    )
    max_kelvin: Kelvin | None = Field(
        None, description="coldest white of a tunable_white light (6500 when left out)"
    )


class LightPatch(InputSchema):
    """Changes to a light (fields left out keep their value)."""

    name: str | None = None
    room_id: DatabaseId | None = None
    device_id: str | None = None
    kind: Kind | None = None
    min_kelvin: Kelvin | None = None
    max_kelvin: Kelvin | None = None
    adaptive: StrictBool | None = Field(
        None, description="follow the home's adaptive curve (lights that dim)"
    )


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


@router.post("/lights", response={201: LightOut, 400: Error, 403: Error, 404: Error, 422: Refused})
def light_create(request: HttpRequest, payload: LightIn) -> Status[dict]:
    """Add a light (owners)."""
    room = room_get(user=request.user, room_id=payload.room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    light = services.light_create(
        room=room,
        name=payload.name,
        device=_device(room.home_id, payload.device_id),
        kind=payload.kind,
        min_kelvin=payload.min_kelvin,
        max_kelvin=payload.max_kelvin,
    )
    return Status(
        201, selectors.light_payload(Light.objects.select_related("room", "device").get(pk=light.pk))
    )


@router.patch(
    "/lights/{light_id}", response={200: LightOut, 400: Error, 403: Error, 404: Error, 422: Refused}
)
def light_update(request: HttpRequest, light_id: DatabaseId, payload: LightPatch) -> dict:
    """Rename a light, move it, give it another device (owners; device_id "" removes it), or make it
    follow the home's adaptive curve (`adaptive`; 422 for an on/off light or a home without
    coordinates)."""
    light = selectors.light_get(user=request.user, light_id=light_id)
    permissions.home_require_owner(user=request.user, home=light.room.home)
    room = room_get(user=request.user, room_id=payload.room_id) if payload.room_id is not None else light.room
    device = light.device if payload.device_id is None else _device(light.room.home_id, payload.device_id)
    with transaction.atomic():  # a refused adaptive switch stores nothing of the rest
        _light_update(request, light, room, device, payload)
    return selectors.light_payload(selectors.light_get(user=request.user, light_id=light_id))


def _light_update(
    request: HttpRequest, light: Light, room: Any, device: Device | None, payload: LightPatch
) -> None:
    services.light_update(
        light=light,
        name=payload.name or light.name,
        room=room,
        device=device,
        kind=payload.kind,
        min_kelvin=payload.min_kelvin,
        max_kelvin=payload.max_kelvin,
    )
    if payload.adaptive is not None:
        light_adaptive_set(
            light=selectors.light_get(user=request.user, light_id=light.pk), adaptive=payload.adaptive
        )


@router.delete("/lights/{light_id}", response={204: None, 403: Error, 404: Error})
def light_delete(request: HttpRequest, light_id: DatabaseId) -> Status[None]:
    """Delete a light (owners)."""
    light = selectors.light_get(user=request.user, light_id=light_id)
    permissions.home_require_owner(user=request.user, home=light.room.home)
    services.light_delete(light=light)
    return Status(204, None)


@router.post("/lights/{light_id}/state", response={202: LightOut, 404: Error, 422: Refused})
async def light_set_state(request: HttpRequest, light_id: DatabaseId, payload: LightStateIn) -> Status[dict]:
    """Ask for a state: stored at once, delivered to the device; `pending` until it confirms.

    422 (nothing stored) for a field the light's kind lacks (a colour for an on/off light) or a
    colour temperature outside its range.
    """
    # The hub's hottest call: the caller's token (or session), the light and the write in one
    # hand-over to the database thread.
    return Status(202, await dbthread.run(_light_set_state, request, light_id, payload))


def _light_set_state(request: HttpRequest, light_id: int, payload: LightStateIn) -> dict:
    user_id = caller_user_id(request)
    # The command to the device and the dashboards' event: one hand-over to the loop, not two.
    with realtime.sends_gathered():
        stored = services.light_command_apply(user_id=user_id, light_id=light_id, command=payload)
    if stored is None:
        raise Light.DoesNotExist("no such light")
    return selectors.light_payload(stored)


@router.post("/homes/{home_id}/lights/state", response={202: list[LightOut], 404: Error, 422: Refused})
def home_lights_set_state(request: HttpRequest, home_id: DatabaseId, payload: LightStateIn) -> Status[list]:
    """Ask every light of a home for one state ("all off"): stored at once, one message per device.

    Each light takes the fields its kind has (an on/off light just switches); a colour temperature
    is brought into each light's range.
    """
    home = home_get(user=request.user, home_id=home_id)
    lights = Light.objects.filter(room__home=home)
    return Status(
        202,
        services.lights_set_desired(
            lights=lights, state=payload.state(), transition_ms=payload.transition_ms
        ),
    )
