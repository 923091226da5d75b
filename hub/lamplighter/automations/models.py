"""Scenes (a named set of light states) and schedules (switch a light, room or scene on time)."""

from django.db import models

from lamplighter.homes.models import Home, Room
from lamplighter.lights.models import Light

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_WEEKDAYS = (1 << len(WEEKDAY_NAMES)) - 1


class Scene(models.Model):
    """A named set of light states in a home, applied in one action."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="scenes")
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["home", "name"], name="scene_name_unique_in_home")]

    def __str__(self) -> str:
        return f"{self.home} / {self.name}"


class SceneLight(models.Model):
    """One light of a scene and the state the scene gives it."""

    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="entries")
    light = models.ForeignKey(Light, on_delete=models.CASCADE, related_name="scene_entries")
    on = models.BooleanField()
    # The rest of the state, for the light kinds that have it (NULL: left as it is).
    brightness = models.PositiveSmallIntegerField(null=True, blank=True)
    color_temp_kelvin = models.PositiveIntegerField(null=True, blank=True)
    rgb = models.PositiveIntegerField(null=True, blank=True, help_text="0xRRGGBB")

    class Meta:
        ordering = ["light__room__name", "light__name"]
        constraints = [models.UniqueConstraint(fields=["scene", "light"], name="scene_light_once")]

    def __str__(self) -> str:
        return f"{self.light} {'on' if self.on else 'off'}"


class Schedule(models.Model):
    """Switch a light, a room or a scene at a time of day (or sunrise/sunset) on chosen weekdays."""

    class Target(models.TextChoices):
        LIGHT = "light", "Light"
        ROOM = "room", "Room"
        SCENE = "scene", "Scene"

    class Action(models.TextChoices):
        ON = "on", "On (a scene: apply it)"
        OFF = "off", "Off (a scene: its lights off)"

    class Trigger(models.TextChoices):
        TIME = "time", "Time of day"
        SUNRISE = "sunrise", "Sunrise"
        SUNSET = "sunset", "Sunset"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=64)
    enabled = models.BooleanField(default=True)
    target = models.CharField(max_length=8, choices=Target.choices)
    light = models.ForeignKey(Light, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=4, choices=Action.choices, default=Action.ON)
    brightness = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Action on: the level (0-255) for lights that dim."
    )
    color_temp_kelvin = models.PositiveIntegerField(
        null=True, blank=True, help_text="Action on: the white for tunable lights."
    )
    transition_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fade over this many milliseconds (a sunrise: one command)."
    )
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.TIME)
    time_of_day = models.TimeField(null=True, blank=True, help_text="Wall-clock time in the home's zone.")
    offset_minutes = models.SmallIntegerField(
        default=0, help_text="Minutes after (or, negative, before) the sun event."
    )
    weekdays = models.PositiveSmallIntegerField(
        default=ALL_WEEKDAYS, help_text="Bit mask: Monday is bit 0, Sunday bit 6."
    )
    armed_at = models.DateTimeField(help_text="Occurrences due before this are never fired (set on save).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["home_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["home", "name"], name="schedule_name_unique_in_home"),
            models.CheckConstraint(
                condition=(
                    models.Q(target="light", light__isnull=False, room__isnull=True, scene__isnull=True)
                    | models.Q(target="room", light__isnull=True, room__isnull=False, scene__isnull=True)
                    | models.Q(target="scene", light__isnull=True, room__isnull=True, scene__isnull=False)
                ),
                name="schedule_has_exactly_its_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.home} / {self.name}"


class ScheduleRun(models.Model):
    """One occurrence of a schedule, claimed by inserting this row: the unique key makes it fire once."""

    class Outcome(models.TextChoices):
        FIRED = "fired", "Fired"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.FIRED)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "due_at"], name="schedule_run_once")]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.due_at.isoformat()} {self.outcome}"
