"""Who may do what in a home: members use it, owners manage it."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from lamplighter.homes.models import Home, Membership
from lamplighter.homes.selectors import home_role


def home_require_owner(*, user: User | AnonymousUser, home: Home) -> None:
    """Raise PermissionDenied unless the user owns the home."""
    if home_role(user=user, home=home) != Membership.Role.OWNER:
        raise PermissionDenied("only an owner of this home may do that")
