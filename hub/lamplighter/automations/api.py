"""REST endpoints for scenes (members apply, owners manage) and schedules (owners manage)."""

from datetime import datetime
from datetime import time as TimeOfDay
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from lamplighter.automations import selectors, services
from lamplighter.firmware import protocol
from lamplighter.homes import permissions
from lamplighter.homes.selectors import home_get
from lamplighter.infra.api_types import DatabaseId, Error, InputSchema, Refused

router = Router(tags=["automations"])


Byte = Annotated[StrictInt, Field(ge=0, le=protocol.MAX_BRIGHTNESS)]
Kelvin = Annotated[StrictInt, Field(ge=protocol.MIN_KELVIN, le=protocol.MAX_KELVIN)]
TransitionMs = Annotated[StrictInt, Field(ge=0, le=protocol.MAX_TRANSITION_MS)]


class SceneLightIn(InputSchema):
    """A light of a scene and the state the scene gives it (the fields its kind has; those left
    out stay as they are when the scene is applied)."""

    light_id: DatabaseId
    on: StrictBool
    brightness: Byte | None = Field(None, description="0-255 (dimmable, tunable_white, rgb)")
    color_temp_kelvin: Kelvin | None = Field(None, description="within the light's range (tunable_white)")
    rgb: Annotated[list[Byte], Field(min_length=3, max_length=3)] | None = Field(
        None, description="[r, g, b] (rgb)"
    )

    def state(self) -> dict[str, Any]:
        """The state the scene gives the light."""
        fields = (
            ("brightness", self.brightness),
            ("color_temp_kelvin", self.color_temp_kelvin),
            ("rgb", self.rgb),
        )
        return {"on": self.on, **{key: value for key, value in fields if value is not None}}


class SceneLightOut(Schema):
    """A light of a scene, with its names."""

    light_id: DatabaseId
    on: bool
    brightness: int | None
    color_temp_kelvin: int | None
    rgb: list[int] | None
    name: str
    room: str


class SceneOut(Schema):
    """A scene: a named set of light states in a home."""

    id: int
    home_id: DatabaseId
    name: str
    lights: list[SceneLightOut]


class SceneIn(InputSchema):
    """A new scene."""

    home_id: DatabaseId
    name: str
    lights: list[SceneLightIn] = []


class ScenePatch(InputSchema):
    """Changes to a scene (fields left out keep their value; lights replaces the whole set)."""

    name: str | None = None
    lights: list[SceneLightIn] | None = None


class SceneApplyIn(InputSchema):
    """How to apply a scene."""

    transition_ms: TransitionMs | None = Field(None, description="fade every light over this many ms")


class SceneApplied(Schema):
    """What applying a scene asked for: each light's new desired state (pending until confirmed)."""

    scene_id: DatabaseId
    lights: list[dict]


class ScheduleOut(Schema):
    """A schedule, with its next instant (None when disabled or without one in the coming week)."""

    id: int
    home_id: DatabaseId
    name: str
    enabled: bool
    target: str
    target_id: DatabaseId
    action: str
    trigger: str
    time: str | None
    offset_minutes: int
    weekdays: list[str]
    brightness: int | None
    color_temp_kelvin: int | None
    transition_ms: int | None
    timezone: str
    next_at: datetime | None


class ScheduleIn(InputSchema):
    """A new schedule: switch a light, room or scene on/off at a time of day or at sunrise/sunset."""

    home_id: DatabaseId
    name: str
    target: str = Field(description="light, room or scene")
    target_id: DatabaseId
    action: str = Field("on", description="on or off (a scene: on applies it, off turns its lights off)")
    trigger: str = Field("time", description="time, sunrise or sunset")
    time: TimeOfDay | None = Field(None, description="HH:MM in the home's time zone (trigger time)")
    offset_minutes: int = Field(0, description="minutes after (negative: before) sunrise/sunset")
    weekdays: list[str] | None = Field(None, description="mon..sun; every day when left out")
    enabled: StrictBool = True
    brightness: Byte | None = Field(None, description="action on: the level (0-255) of lights that dim")
    color_temp_kelvin: Kelvin | None = Field(None, description="action on: the white of tunable lights")
    transition_ms: TransitionMs | None = Field(
        None, description="fade over this many ms (at most one hour; a sunrise is one command per device)"
    )


class SchedulePatch(InputSchema):
    """Changes to a schedule (fields left out keep their value)."""

    name: str | None = None
    target: str | None = None
    target_id: DatabaseId | None = None
    action: str | None = None
    trigger: str | None = None
    time: TimeOfDay | None = None
    offset_minutes: int | None = None
    weekdays: list[str] | None = None
    enabled: StrictBool | None = None
    brightness: Byte | None = None
    color_temp_kelvin: Kelvin | None = None
    transition_ms: TransitionMs | None = None


# ---- scenes ----------------------------------------------------------------------------


@router.get("/scenes", response=list[SceneOut])
def scene_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[dict]:
    """Scenes of the caller's homes."""
    return [
        selectors.scene_payload(scene) for scene in selectors.scene_list(user=request.user, home_id=home_id)
    ]


@router.get("/scenes/{scene_id}", response={200: SceneOut, 404: Error})
def scene_detail(request: HttpRequest, scene_id: DatabaseId) -> dict:
    """One scene."""
    return selectors.scene_payload(selectors.scene_get(user=request.user, scene_id=scene_id))


@router.post("/scenes", response={201: SceneOut, 400: Error, 403: Error, 404: Error, 422: Refused})
def scene_create(request: HttpRequest, payload: SceneIn) -> Status[dict]:
    """Create a scene (owners)."""
    home = home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    scene = services.scene_create(
        home=home, name=payload.name, lights=[(entry.light_id, entry.state()) for entry in payload.lights]
    )
    return Status(201, selectors.scene_payload(selectors.scene_get(user=request.user, scene_id=scene.pk)))


@router.patch(
    "/scenes/{scene_id}", response={200: SceneOut, 400: Error, 403: Error, 404: Error, 422: Refused}
)
def scene_update(request: HttpRequest, scene_id: DatabaseId, payload: ScenePatch) -> dict:
    """Rename a scene or replace its lights (owners)."""
    scene = selectors.scene_get(user=request.user, scene_id=scene_id)
    permissions.home_require_owner(user=request.user, home=scene.home)
    lights = None if payload.lights is None else [(entry.light_id, entry.state()) for entry in payload.lights]
    services.scene_update(scene=scene, name=payload.name, lights=lights)
    return selectors.scene_payload(selectors.scene_get(user=request.user, scene_id=scene_id))


@router.delete("/scenes/{scene_id}", response={204: None, 403: Error, 404: Error})
def scene_delete(request: HttpRequest, scene_id: DatabaseId) -> Status[None]:
    """Delete a scene (owners)."""
    scene = selectors.scene_get(user=request.user, scene_id=scene_id)
    permissions.home_require_owner(user=request.user, home=scene.home)
    services.scene_delete(scene=scene)
    return Status(204, None)


@router.post("/scenes/{scene_id}/apply", response={202: SceneApplied, 404: Error})
def scene_apply(
    request: HttpRequest, scene_id: DatabaseId, payload: SceneApplyIn | None = None
) -> Status[dict]:
    """Apply a scene (members): every light's desired state is stored at once and delivered
    (a body {"transition_ms": N} fades them)."""
    # The scene only: scene_apply reads its lights itself (with their room and device, written out).
    scene = selectors.scene_get(user=request.user, scene_id=scene_id, with_lights=False)
    # Its answer is the lights as the API shows them (light_payload), built with the dashboards' events.
    transition_ms = payload.transition_ms if payload is not None else None
    return Status(
        202, {"scene_id": scene.pk, "lights": services.scene_apply(scene=scene, transition_ms=transition_ms)}
    )


# ---- schedules ---------------------------------------------------------------------------


def _schedule_out(request: HttpRequest, schedule_id: DatabaseId) -> dict:
    schedule = selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    return selectors.schedule_payload(schedule, now=timezone.now())


@router.get("/schedules", response=list[ScheduleOut])
def schedule_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[dict]:
    """Schedules of the caller's homes."""
    now = timezone.now()
    return [
        selectors.schedule_payload(schedule, now=now)
        for schedule in selectors.schedule_list(user=request.user, home_id=home_id)
    ]


@router.get("/schedules/{schedule_id}", response={200: ScheduleOut, 404: Error})
def schedule_detail(request: HttpRequest, schedule_id: DatabaseId) -> dict:
    """One schedule."""
    return _schedule_out(request, schedule_id)


@router.post("/schedules", response={201: ScheduleOut, 400: Error, 403: Error, 404: Error, 422: Refused})
def schedule_create(request: HttpRequest, payload: ScheduleIn) -> Status[dict]:
    """Create a schedule (owners)."""
    home = home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    spec = services.ScheduleSpec(
        name=payload.name,
        target=payload.target,
        target_id=payload.target_id,
        action=payload.action,
        trigger=payload.trigger,
        time_of_day=payload.time,
        offset_minutes=payload.offset_minutes,
        weekdays=payload.weekdays,
        enabled=payload.enabled,
        brightness=payload.brightness,
        color_temp_kelvin=payload.color_temp_kelvin,
        transition_ms=payload.transition_ms,
    )
    schedule = services.schedule_create(home=home, spec=spec)
    return Status(201, _schedule_out(request, schedule.pk))


@router.patch(
    "/schedules/{schedule_id}", response={200: ScheduleOut, 400: Error, 403: Error, 404: Error, 422: Refused}
)
def schedule_update(request: HttpRequest, schedule_id: DatabaseId, payload: SchedulePatch) -> dict:
    """Change a schedule (owners)."""
    schedule = selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    permissions.home_require_owner(user=request.user, home=schedule.home)
    current = selectors.schedule_payload(schedule)
    changes = payload.model_dump(exclude_unset=True)
    time_of_day = changes["time"] if "time" in changes else schedule.time_of_day
    spec = services.ScheduleSpec(
        name=changes.get("name") or schedule.name,
        target=changes.get("target") or schedule.target,
        target_id=changes.get("target_id") or current["target_id"],
        action=changes.get("action") or schedule.action,
        trigger=changes.get("trigger") or schedule.trigger,
        time_of_day=time_of_day,
        offset_minutes=schedule.offset_minutes if payload.offset_minutes is None else payload.offset_minutes,
        weekdays=changes.get("weekdays") if changes.get("weekdays") is not None else current["weekdays"],
        enabled=schedule.enabled if payload.enabled is None else payload.enabled,
        brightness=changes["brightness"] if "brightness" in changes else schedule.brightness,
        color_temp_kelvin=changes["color_temp_kelvin"]
        if "color_temp_kelvin" in changes
        else schedule.color_temp_kelvin,
        transition_ms=changes["transition_ms"] if "transition_ms" in changes else schedule.transition_ms,
    )
    services.schedule_update(schedule=schedule, spec=spec)
    return _schedule_out(request, schedule_id)


@router.delete("/schedules/{schedule_id}", response={204: None, 403: Error, 404: Error})
def schedule_delete(request: HttpRequest, schedule_id: DatabaseId) -> Status[None]:
    """Delete a schedule (owners)."""
    schedule = selectors.schedule_get(user=request.user, schedule_id=schedule_id)
    permissions.home_require_owner(user=request.user, home=schedule.home)
    services.schedule_delete(schedule=schedule)
    return Status(204, None)
