"""Writes for homes, memberships and rooms."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lamplighter.homes.models import Home, Membership, Room, validate_timezone


@transaction.atomic
def home_create(*, name: str, owner: User) -> Home:
    """Create a home owned by `owner`."""
    home = Home.objects.create(name=_clean_name(name, "home"))
    Membership.objects.create(home=home, user=owner, role=Membership.Role.OWNER)
    return home


def home_update(
    *,
    home: Home,
    name: str | None = None,
    timezone: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    clear_location: bool = False,
) -> Home:
    """Rename a home, set its time zone, or set (or, with clear_location, remove) its coordinates."""
    if name is not None:
        home.name = _clean_name(name, "home")
    if timezone is not None:
        validate_timezone(timezone)
        home.timezone = timezone
    if clear_location:
        home.latitude = home.longitude = None
    elif latitude is not None or longitude is not None:
        if latitude is None or longitude is None:
            raise ValidationError(_("give both latitude and longitude"))
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValidationError(_("latitude must be within -90..90 and longitude within -180..180"))
        home.latitude, home.longitude = latitude, longitude
    home.save(update_fields=["name", "timezone", "latitude", "longitude"])
    return home


def room_create(*, home: Home, name: str) -> Room:
    """Add a room to a home."""
    name = _clean_name(name, "room")
    if Room.objects.filter(home=home, name=name).exists():
        raise ValidationError(_("a room named “%(name)s” already exists in this home") % {"name": name})
    return Room.objects.create(home=home, name=name)


def room_rename(*, room: Room, name: str) -> Room:
    """Rename a room."""
    name = _clean_name(name, "room")
    if Room.objects.filter(home=room.home, name=name).exclude(pk=room.pk).exists():
        raise ValidationError(_("a room named “%(name)s” already exists in this home") % {"name": name})
    room.name = name
    room.save(update_fields=["name"])
    return room


def room_delete(*, room: Room) -> None:
    """Delete a room with its lights."""
    room.delete()


# One sentence per kind of name, so that each language can say it its own way.
_NAME_NEEDED = {"home": gettext_lazy("the home needs a name"), "room": gettext_lazy("the room needs a name")}
_NAME_TOO_LONG = {
    "home": gettext_lazy("a home name has at most 64 characters"),
    "room": gettext_lazy("a room name has at most 64 characters"),
}


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_NAME_NEEDED[what])
    if len(name) > 64:
        raise ValidationError(_NAME_TOO_LONG[what])
    return name
