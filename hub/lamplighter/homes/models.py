"""Homes, who belongs to them, and their rooms."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext as _


def validate_timezone(value: str) -> None:
    """Accept only IANA time zone names the system's zoneinfo knows (e.g. "Europe/Paris")."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("unknown time zone “%(zone)s” (use an IANA name such as Europe/Paris)") % {"zone": value}
        ) from error


class Home(models.Model):
    """A place with lights; users belong to it through memberships."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="homes")
    # Where the home is: schedules run in its time zone; sunrise/sunset need its coordinates.
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in a home: owners manage it, members use it."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["home", "user"], name="one_membership_per_user_and_home")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.home} ({self.role})"


class Room(models.Model):
    """A room of a home; its name is unique within the home."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["home", "name"], name="room_name_unique_in_home")]

    def __str__(self) -> str:
        return f"{self.home} / {self.name}"
