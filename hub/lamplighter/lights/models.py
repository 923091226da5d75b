"""A light: desired state (what users ask) and reported state (what the device runs), kept apart."""

from django.db import models

from lamplighter.devices.models import Device
from lamplighter.homes.models import Room


class Light(models.Model):
    """A light in a room, driven by a device; each state carries a version and a time.

    A state is `on` plus the fields of the light's kind (firmware/protocol.py): `brightness`
    (0..255) for every kind but onoff, `color_temp_kelvin` (within min_kelvin..max_kelvin) for
    tunable_white, `rgb` for rgb. Fields the kind lacks are NULL. The desired fields keep the
    last brightness and colour while the light is off, so that switching it on restores them.
    rgb is stored as one integer 0xRRGGBB.
    """

    class Kind(models.TextChoices):
        ONOFF = "onoff", "On/off"
        DIMMABLE = "dimmable", "Dimmable"
        TUNABLE_WHITE = "tunable_white", "Tunable white"
        RGB = "rgb", "Colour (RGB)"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="lights")
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="lights"
    )
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ONOFF)
    min_kelvin = models.PositiveIntegerField(default=2700, help_text="Warmest white (tunable_white).")
    max_kelvin = models.PositiveIntegerField(default=6500, help_text="Coldest white (tunable_white).")
    desired_on = models.BooleanField(default=False)
    desired_brightness = models.PositiveSmallIntegerField(null=True, blank=True)
    desired_color_temp_kelvin = models.PositiveIntegerField(null=True, blank=True)
    desired_rgb = models.PositiveIntegerField(null=True, blank=True, help_text="0xRRGGBB")
    desired_version = models.PositiveBigIntegerField(default=1)
    # The desired state is a held target (adaptive lighting, docs/protocol.md): every entry of it
    # goes out with hold, so it never switches the light, and a device's change beats it.
    desired_hold = models.BooleanField(default=False)
    desired_at = models.DateTimeField(auto_now_add=True)
    reported_on = models.BooleanField(null=True, blank=True)
    reported_brightness = models.PositiveSmallIntegerField(null=True, blank=True)
    reported_color_temp_kelvin = models.PositiveIntegerField(null=True, blank=True)
    reported_rgb = models.PositiveIntegerField(null=True, blank=True, help_text="0xRRGGBB")
    reported_version = models.PositiveBigIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # What caused the reported state (protocol.CAUSES: hub, ha, adaptive, button, web); blank
    # when the device does not say (lights capability below 3).
    reported_cause = models.CharField(max_length=16, blank=True, default="")
    # What the device's hello said it drives for this light (blank: it did not say, an on/off
    # device), and the range in kelvin it announced for a tunable white.
    device_kind = models.CharField(max_length=16, blank=True)
    device_min_kelvin = models.PositiveIntegerField(null=True, blank=True)
    device_max_kelvin = models.PositiveIntegerField(null=True, blank=True)
    # Adaptive white (lamplighter.adaptive): whether the light follows its home's curve, and what
    # a manual change paused (until the light is turned off and on again, or resumed).
    adaptive = models.BooleanField(default=False)
    adaptive_paused_brightness = models.BooleanField(default=False)
    adaptive_paused_color = models.BooleanField(default=False)

    class Meta:
        ordering = ["room__name", "name"]
        constraints = [models.UniqueConstraint(fields=["room", "name"], name="light_name_unique_in_room")]

    def __str__(self) -> str:
        return f"{self.room.name} / {self.name}"

    @property
    def pending(self) -> bool:
        """True while the device has not confirmed the desired state."""
        return (
            self.reported_version != self.desired_version
            or self.reported_on != self.desired_on
            or self.reported_brightness != self.desired_brightness
            or self.reported_color_temp_kelvin != self.desired_color_temp_kelvin
            or self.reported_rgb != self.desired_rgb
        )
