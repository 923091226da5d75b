"""Reads for homes and rooms, always scoped to what a user may see."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from lamplighter.homes.models import Home, Membership, Room


def home_list(*, user: User | AnonymousUser) -> QuerySet[Home]:
    """Homes the user belongs to."""
    if not user.is_authenticated:
        return Home.objects.none()
    return Home.objects.filter(memberships__user=user).order_by("name", "pk")


def home_get(*, user: User | AnonymousUser, home_id: int) -> Home:
    """One of the user's homes; Home.DoesNotExist when it is not theirs (no hint that it exists)."""
    return home_list(user=user).get(pk=home_id)


def home_role(*, user: User | AnonymousUser, home: Home) -> str | None:
    """The user's role in the home, or None."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(home=home, user=user).values_list("role", flat=True).first()


def home_ids_for_user(*, user: User | AnonymousUser) -> list[int]:
    """Ids of the user's homes (for subscriptions)."""
    return list(home_list(user=user).values_list("pk", flat=True))


def room_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Room]:
    """Rooms of the user's homes, optionally of one home."""
    rooms = Room.objects.filter(home__in=home_list(user=user)).select_related("home")
    if home_id is not None:
        rooms = rooms.filter(home_id=home_id)
    return rooms.order_by("home_id", "name")


def room_get(*, user: User | AnonymousUser, room_id: int) -> Room:
    """One room of the user's homes; Room.DoesNotExist otherwise."""
    return room_list(user=user).get(pk=room_id)
