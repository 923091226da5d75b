"""A light: desired state (what users ask) and reported state (what the device runs), kept apart."""

from django.db import models

from lamplighter.devices.models import Device
from lamplighter.homes.models import Room


class Light(models.Model):
    """A light in a room, driven by a device; each state carries a version and a time."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="lights")
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="lights"
    )
    name = models.CharField(max_length=64)
    desired_on = models.BooleanField(default=False)
    desired_version = models.PositiveBigIntegerField(default=1)
    desired_at = models.DateTimeField(auto_now_add=True)
    reported_on = models.BooleanField(null=True, blank=True)
    reported_version = models.PositiveBigIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["room__name", "name"]
        constraints = [models.UniqueConstraint(fields=["room", "name"], name="light_name_unique_in_room")]

    def __str__(self) -> str:
        return f"{self.room.name} / {self.name}"

    @property
    def pending(self) -> bool:
        """True while the device has not confirmed the desired state."""
        return self.reported_version != self.desired_version or self.reported_on != self.desired_on
