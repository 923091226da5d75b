"""Admin for scenes, schedules and their runs."""

from typing import Any

from django import forms
from django.contrib import admin
from django.utils import timezone

from lamplighter.automations.models import Scene, SceneLight, Schedule, ScheduleRun


class SceneLightInline(admin.TabularInline):
    """The lights of a scene."""

    model = SceneLight
    extra = 0
    raw_id_fields = ["light"]


@admin.register(Scene)
class SceneAdmin(admin.ModelAdmin):
    """Scenes."""

    list_display = ["name", "home", "created_at"]
    list_filter = ["home"]
    inlines = [SceneLightInline]


class ScheduleRunInline(admin.TabularInline):
    """Recent runs of a schedule (read-only history)."""

    model = ScheduleRun
    extra = 0
    can_delete = False
    readonly_fields = ["due_at", "fired_at", "outcome", "detail"]
    max_num = 0
    ordering = ["-due_at"]


class ScheduleAdminForm(forms.ModelForm):
    """The same rules as the API's, so the admin cannot save a schedule the scheduler cannot run."""

    class Meta:
        model = Schedule
        fields = [
            "home",
            "name",
            "enabled",
            "target",
            "light",
            "room",
            "scene",
            "action",
            "trigger",
            "time_of_day",
            "offset_minutes",
            "weekdays",
        ]

    def clean(self) -> dict[str, Any]:
        """Runs on save: the chosen target is set (and only it), in the home; times fit the trigger."""
        data = super().clean() or {}
        home, target = data.get("home"), data.get("target")
        chosen = {name: data.get(name) for name in ("light", "room", "scene")}
        if target in chosen and (chosen[target] is None or any(v for k, v in chosen.items() if k != target)):
            raise forms.ValidationError(f"set the {target} field, and only it")
        item = chosen.get(target or "")
        item_home = getattr(item, "home_id", None) or getattr(getattr(item, "room", None), "home_id", None)
        if home is not None and item is not None and item_home != home.pk:
            raise forms.ValidationError(f"the {target} belongs to another home")
        if data.get("trigger") == Schedule.Trigger.TIME and data.get("time_of_day") is None:
            raise forms.ValidationError("a time-of-day schedule needs a time")
        if data.get("trigger") in ("sunrise", "sunset") and home is not None and home.latitude is None:
            raise forms.ValidationError(
                "set the home's latitude and longitude before using sunrise or sunset"
            )
        return data


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    """Schedules; saving re-arms one, so an occurrence already past never fires because of an edit."""

    list_display = ["name", "home", "enabled", "target", "action", "trigger", "time_of_day", "offset_minutes"]
    list_filter = ["home", "enabled", "trigger"]
    raw_id_fields = ["light", "room", "scene"]
    form = ScheduleAdminForm
    inlines = [ScheduleRunInline]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """Runs when the admin saves a schedule: arm it from now."""
        obj.armed_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    """Every fired (or failed) occurrence."""

    list_display = ["schedule", "due_at", "fired_at", "outcome", "detail"]
    list_filter = ["outcome"]
    readonly_fields = ["schedule", "due_at", "fired_at", "outcome", "detail"]
