"""REST endpoints for homes and rooms."""

from django.http import HttpRequest
from ninja import Router, Schema, Status

from lamplighter.api_types import DatabaseId, Error, InputSchema
from lamplighter.homes import permissions, selectors, services
from lamplighter.homes.models import Home

router = Router(tags=["homes"])


class HomeOut(Schema):
    """A home and the caller's role in it."""

    id: int
    name: str
    role: str | None
    timezone: str
    latitude: float | None
    longitude: float | None


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


class RoomOut(Schema):
    """A room."""

    id: int
    home_id: DatabaseId
    name: str


class RoomIn(InputSchema):
    """A new room."""

    home_id: DatabaseId
    name: str


class RoomPatch(InputSchema):
    """A room's new name."""

    name: str


def _home_out(request: HttpRequest, home: Home) -> HomeOut:
    return HomeOut(
        id=home.pk,
        name=home.name,
        role=selectors.home_role(user=request.user, home=home),
        timezone=home.timezone,
        latitude=home.latitude,
        longitude=home.longitude,
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


@router.patch("/homes/{home_id}", response={200: HomeOut, 400: Error, 403: Error, 404: Error})
def home_update(request: HttpRequest, home_id: DatabaseId, payload: HomePatch) -> HomeOut:
    """Rename a home, set its time zone (IANA name) or its coordinates for sunrise/sunset (owners)."""
    home = selectors.home_get(user=request.user, home_id=home_id)
    permissions.home_require_owner(user=request.user, home=home)
    home = services.home_update(
        home=home,
        name=payload.name,
        timezone=payload.timezone,
        latitude=payload.latitude,
        longitude=payload.longitude,
        clear_location=payload.location_clear,
    )
    return _home_out(request, home)


@router.get("/rooms", response=list[RoomOut])
def room_list(request: HttpRequest, home_id: DatabaseId | None = None) -> list[RoomOut]:
    """Rooms of the caller's homes."""
    return [
        RoomOut(id=r.pk, home_id=r.home_id, name=r.name)
        for r in selectors.room_list(user=request.user, home_id=home_id)
    ]


@router.post("/rooms", response={201: RoomOut, 400: Error, 403: Error, 404: Error})
def room_create(request: HttpRequest, payload: RoomIn) -> Status[RoomOut]:
    """Add a room (owners)."""
    home = selectors.home_get(user=request.user, home_id=payload.home_id)
    permissions.home_require_owner(user=request.user, home=home)
    room = services.room_create(home=home, name=payload.name)
    return Status(201, RoomOut(id=room.pk, home_id=room.home_id, name=room.name))


@router.patch("/rooms/{room_id}", response={200: RoomOut, 400: Error, 403: Error, 404: Error})
def room_update(request: HttpRequest, room_id: DatabaseId, payload: RoomPatch) -> RoomOut:
    """Rename a room (owners)."""
    room = selectors.room_get(user=request.user, room_id=room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    room = services.room_rename(room=room, name=payload.name)
    return RoomOut(id=room.pk, home_id=room.home_id, name=room.name)


@router.delete("/rooms/{room_id}", response={204: None, 403: Error, 404: Error})
def room_delete(request: HttpRequest, room_id: DatabaseId) -> Status[None]:
    """Delete a room and its lights (owners)."""
    room = selectors.room_get(user=request.user, room_id=room_id)
    permissions.home_require_owner(user=request.user, home=room.home)
    services.room_delete(room=room)
    return Status(204, None)
