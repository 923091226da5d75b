"""A home's adaptive profile, and the planner's record of the fade it last sent each light."""

from django.db import models

from lamplighter.homes.models import Home
from lamplighter.lights.models import Light


class AdaptiveProfile(models.Model):
    """What a home's adaptive curve runs between (adaptive.curve.Profile); a home without a row
    has the defaults."""

    home = models.OneToOneField(
        Home, on_delete=models.CASCADE, primary_key=True, related_name="adaptive_profile"
    )
    min_brightness = models.PositiveSmallIntegerField(default=51)
    max_brightness = models.PositiveSmallIntegerField(default=255)
    min_kelvin = models.PositiveIntegerField(default=2000)
    max_kelvin = models.PositiveIntegerField(default=5500)
    sleep_brightness = models.PositiveSmallIntegerField(null=True, blank=True)
    sleep_kelvin = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"adaptive profile of {self.home}"


class AdaptiveFade(models.Model):
    """The end of the fade the planner last sent a light (NULL: send one at the next tick).

    Updated with a conditional UPDATE before sending, so two workers never send the same fade.
    """

    light = models.OneToOneField(
        Light, on_delete=models.CASCADE, primary_key=True, related_name="adaptive_fade"
    )
    ends_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"adaptive fade of {self.light_id} until {self.ends_at}"
