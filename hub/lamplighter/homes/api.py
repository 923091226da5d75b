"""REST endpoints for homes and rooms."""

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import StrictBool

from lamplighter.adaptive.api import AdaptiveProfileIn, AdaptiveProfileOut
from lamplighter.adaptive.selectors import profile_of, profile_payload, rooms_adaptive
from lamplighter.adaptive.services import home_adaptive_update, room_adaptive_set
from lamplighter.homes import permissions, selectors, services
from lamplighter.homes.models import Home, Room
from lamplighter.infra.api_types import DatabaseId, Error, InputSchema, Refused

router = Router(tags=["homes"])


class HomeOut(Schema):
    """A home and the caller's role in it."""

    id: int
    name: str
    role: str | None
    timezone: str
    latitude: float | None
    longitude: float | None
    adaptive: AdaptiveProfileOut


class HomeIn(InputSchema):
    """A new home."""

    name: str


class HomePatch(InputSchema):
    """Changes to a home (fields left out keep their value); location_clear removes the coordinates."""

    name: str | None = None
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_clear: bool = False
    adaptive: AdaptiveProfileIn | None = None


class RoomOut(Schema):
    """A room; adaptive: every light of it that dims follows the home's adaptive curve."""

    id: int
    home_id: DatabaseId
    name: str
    adaptive: bool


class RoomIn(InputSchema):
    """A new room."""

    home_id: DatabaseId
    name: str


class RoomPatch(InputSchema):
    """A room's new name, or the adaptive switch of all its lights that dim (fields left out keep
    their value)."""

    name: str | None = None
    adaptive: StrictBool | None = None


def _home_out(request: HttpRequest, home: Home) -> HomeOut:
    return HomeOut(
        id=home.pk,
        name=home.name,
        role=selectors.home_role(user=request.user, home=home),
        timezone=home.timezone,
        latitude=home.latitude,
        longitude=home.longitude,
        adaptive=AdaptiveProfileOut(**profile_payload(profile_of(home=home))),
    )


@router.get("/homes", response=list[HomeOut])
def home_list(request: HttpRequest) -> list[HomeOut]:
    """Homes the caller belongs to."""
    return [_home_out(request, home) for home in selectors.home_list(user=request.user)]


@router.post("/homes", response={201: HomeOut, 400: Error})
def home_create(request: HttpRequest, payload: HomeIn) -> Status[HomeOut]:
    """Create a home; the caller owns it."""
    home = services.home_create(name=payload.name, owner=request.user)  # type: ignore[arg-type]
    return Status(201, _home_out(request, home))


@router.get("/homes/{home_id}", response={200: HomeOut, 404: Error})
def home_detail(request: HttpRequest, home_id: DatabaseId) -> HomeOut:
    """One home."""
    return _home_out(request, selectors.home_get(user=request.user, home_id=home_id))


@router.patch("/homes/{home_id}", response={200: HomeOut, 400: Error, 403: Error, 404: Error, 422: Refused})
def home_update(request: HttpRequest, home_id: DatabaseId, payload: HomePatch) -> HomeOut:
    """Rename a home, set its time zone (IANA name), its coordinates for sunrise/sunset and the
    adaptive curve, or its adaptive profile (`adaptive`, docs/adaptive.md) (owners)."""
    home = selectors.home_get(user=request.user, home_id=home_id)
    permissions.home_require_owner(user=request.user, home=home)
    with transaction.atomic():  # a refused profile stores nothing of the rest
        home = _home_update(home, payload)
    return _home_out(request, home)


def _home_update(home: Home, payload: HomePatch) -> Home:
    if payload.adaptive is not None:
        home_adaptive_update(home=home, changes=payload.adaptive.changes())
    return services.home_update(
        home=home,
        name=payload.name,
        timezone=payload.timezone,
        latitude=payload.latitude,
        longitude=payload.longitude,
        clear_location=payload.location_clear,
    )


@router.get("/rooms", response=list[RoomOut])
def room_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[RoomOut]:
    """Rooms of the caller's homes."""
    rooms = list(selectors.room_list(user=request.user, home_id=home_id))
    adaptive = rooms_adaptive(room_ids=[room.pk for room in rooms])
    return [_room_out(room, adaptive) for room in rooms]


def _room_out(room: Room, adaptive: set[int] | None = None) -> RoomOut:
    if adaptive is None:
        adaptive = rooms_adaptive(room_ids=[room.pk])
    return RoomOut(id=room.pk, home_id=room.home_id, name=room.name, adaptive=room.pk in adaptive)


@router.post("/rooms", response={201: RoomOut, 400: Error, 403: Error, 404: Error})
def room_create(request: HttpRequest, payload: RoomIn) -> Status[RoomOut]:
    """Add a room (owners)."""
    home = selectors.home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    room = services.room_create(home=home, name=payload.name)
    return Status(201, _room_out(room, set()))


@router.patch("/rooms/{room_id}", response={200: RoomOut, 400: Error, 403: Error, 404: Error, 422: Refused})
def room_update(request: HttpRequest, room_id: DatabaseId, payload: RoomPatch) -> RoomOut:
    """Rename a room, or switch adaptive white for all its lights that dim (owners; 422 when it
    has none, or its home has no coordinates)."""
    room = selectors.room_get(user=request.user, room_id=room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    with transaction.atomic():  # a refused switch stores nothing of the rest
        if payload.name is not None:
            room = services.room_rename(room=room, name=payload.name)
        if payload.adaptive is not None:
            room_adaptive_set(room=room, adaptive=payload.adaptive)
    return _room_out(room)


@router.delete("/rooms/{room_id}", response={204: None, 403: Error, 404: Error})
def room_delete(request: HttpRequest, room_id: DatabaseId) -> Status[None]:
    """Delete a room and its lights (owners)."""
    room = selectors.room_get(user=request.user, room_id=room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    services.room_delete(room=room)
    return Status(204, None)
