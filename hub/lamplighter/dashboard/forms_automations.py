"""Dashboard forms for scenes and schedules: they only check shapes; the services decide what is valid."""

from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from lamplighter.automations.models import WEEKDAY_NAMES, Scene, Schedule
from lamplighter.automations.selectors import weekday_names
from lamplighter.automations.services import ScheduleSpec
from lamplighter.homes.models import Home, Room
from lamplighter.lights.models import Light

SCENE_STATES = [("", _("Not in the scene")), ("on", _("Switch on")), ("off", _("Switch off"))]
LIGHT_FIELD_PREFIX = "light_"


def light_label(light: Light) -> str:
    """A light as the forms list it: its room, then its name."""
    return f"{light.room.name} · {light.name}"


def _home_lights(home: Home) -> list[Light]:
    return list(Light.objects.filter(room__home=home).select_related("room").order_by("room__name", "name"))


class SceneForm(forms.Form):
    """A scene: its name and, for each light of the home, whether the scene switches it on or off."""

    name = forms.CharField(label=_("Name"), max_length=64, strip=True)

    def __init__(self, *args: Any, home: Home, scene: Scene | None = None, **kwargs: Any) -> None:
        if scene is not None:
            initial = {"name": scene.name}
            initial.update(
                {
                    f"{LIGHT_FIELD_PREFIX}{entry.light_id}": "on" if entry.on else "off"
                    for entry in scene.entries.all()
                }
            )
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for light in _home_lights(home):
            self.fields[f"{LIGHT_FIELD_PREFIX}{light.pk}"] = forms.ChoiceField(
                label=light_label(light), choices=SCENE_STATES, required=False
            )

    def scene_lights(self) -> list[tuple[int, bool]]:
        """The (light id, on) pairs chosen, as the scene services take them."""
        return [
            (int(key.removeprefix(LIGHT_FIELD_PREFIX)), value == "on")
            for key, value in self.cleaned_data.items()
            if key.startswith(LIGHT_FIELD_PREFIX) and value
        ]


class ScheduleForm(forms.Form):
    """A schedule: what it switches, how, when, and on which days."""

    name = forms.CharField(label=_("Name"), max_length=64, strip=True)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    target = forms.ChoiceField(label=_("Light, room or scene"))
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            (Schedule.Action.ON, _("Switch on (a scene: apply it)")),
            (Schedule.Action.OFF, _("Switch off (a scene: its lights off)")),
        ],
    )
    trigger = forms.ChoiceField(
        label=_("When"),
        choices=[
            (Schedule.Trigger.TIME, _("At a time of day")),
            (Schedule.Trigger.SUNRISE, _("At sunrise")),
            (Schedule.Trigger.SUNSET, _("At sunset")),
        ],
    )
    time_of_day = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    offset_minutes = forms.IntegerField(
        label=_("Offset in minutes"),
        required=False,
        initial=0,
        help_text=_("For sunrise and sunset: minutes after the sun event, or before it when negative."),
    )
    weekdays = forms.MultipleChoiceField(
        label=_("Days"),
        required=False,
        choices=[(name, WEEKDAYS[index]) for index, name in enumerate(WEEKDAY_NAMES)],
        initial=list(WEEKDAY_NAMES),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "weekdays"}),
    )

    def __init__(self, *args: Any, home: Home, schedule: Schedule | None = None, **kwargs: Any) -> None:
        if schedule is not None:
            target_id = {"light": schedule.light_id, "room": schedule.room_id, "scene": schedule.scene_id}
            kwargs.setdefault(
                "initial",
                {
                    "name": schedule.name,
                    "enabled": schedule.enabled,
                    "target": f"{schedule.target}:{target_id[schedule.target]}",
                    "action": schedule.action,
                    "trigger": schedule.trigger,
                    "time_of_day": schedule.time_of_day,
                    "offset_minutes": schedule.offset_minutes,
                    "weekdays": weekday_names(schedule.weekdays),
                },
            )
        super().__init__(*args, **kwargs)
        rooms = Room.objects.filter(home=home).order_by("name")
        scenes = Scene.objects.filter(home=home).order_by("name")
        groups = [
            (_("Lights"), [(f"light:{light.pk}", light_label(light)) for light in _home_lights(home)]),
            (_("Rooms"), [(f"room:{room.pk}", room.name) for room in rooms]),
            (_("Scenes"), [(f"scene:{scene.pk}", scene.name) for scene in scenes]),
        ]
        target_field = self.fields["target"]
        assert isinstance(target_field, forms.ChoiceField)
        target_field.choices = [(label, choices) for label, choices in groups if choices]
        time_field = self.fields["time_of_day"]
        time_field.help_text = _("For a time of day, on the home's clock (%(zone)s).") % {
            "zone": home.timezone
        }

    def spec(self) -> ScheduleSpec:
        """The schedule's fields as the schedule services take them."""
        data = self.cleaned_data
        target, target_id = str(data["target"]).split(":", 1)
        return ScheduleSpec(
            name=data["name"],
            target=target,
            target_id=int(target_id),
            action=data["action"],
            trigger=data["trigger"],
            time_of_day=data["time_of_day"],
            offset_minutes=data["offset_minutes"] or 0,
            weekdays=list(data["weekdays"]),
            enabled=data["enabled"],
        )
