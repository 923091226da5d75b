"""Dashboard forms for a home's settings and the user's language."""

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


@cache
def timezone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone the system knows, sorted, as select options."""
    return [(name, name) for name in sorted(available_timezones())]


class HomeSettingsForm(forms.Form):
    """A home's name, time zone and place (the place only matters for sunrise and sunset)."""

    name = forms.CharField(label=_("Name"), max_length=64, strip=True)
    timezone = forms.ChoiceField(
        label=_("Time zone"), choices=timezone_choices, help_text=_("Schedules run on this clock.")
    )
    latitude = forms.FloatField(
        label=_("Latitude"),
        required=False,
        help_text=_("Degrees north (negative: south), e.g. 48.85. Needed for sunrise and sunset."),
    )
    longitude = forms.FloatField(
        label=_("Longitude"),
        required=False,
        help_text=_("Degrees east (negative: west), e.g. 2.35. Leave both empty to forget the place."),
    )


class AdaptiveProfileForm(forms.Form):
    """A home's adaptive curve: between which brightness and which whites its lights follow the day."""

    adaptive_min_brightness = forms.IntegerField(
        required=False,
        label=_("Adaptive: night brightness"),
        min_value=0,
        max_value=255,
        help_text=_("0-255, at solar midnight."),
    )
    adaptive_max_brightness = forms.IntegerField(
        required=False,
        label=_("Adaptive: day brightness"),
        min_value=0,
        max_value=255,
        help_text=_("0-255, from sunrise to sunset."),
    )
    adaptive_min_kelvin = forms.IntegerField(
        required=False,
        label=_("Adaptive: warmest white (K)"),
        min_value=1000,
        max_value=20000,
        help_text=_("At sunset, sunrise and at night."),
    )
    adaptive_max_kelvin = forms.IntegerField(
        required=False,
        label=_("Adaptive: coolest white (K)"),
        min_value=1000,
        max_value=20000,
        help_text=_("At solar noon."),
    )
    adaptive_sleep_brightness = forms.IntegerField(
        label=_("Adaptive: sleep brightness"),
        min_value=0,
        max_value=255,
        required=False,
        help_text=_("Optional, with the sleep white: the night goes to these at solar midnight."),
    )
    adaptive_sleep_kelvin = forms.IntegerField(
        label=_("Adaptive: sleep white (K)"), min_value=1000, max_value=20000, required=False
    )

    def adaptive_changes(self) -> dict[str, object]:
        """The profile as home_adaptive_update takes it: empty fields keep their value, but both sleep
        fields empty remove the sleep setting."""
        data = self.cleaned_data
        sleep = None
        if data["adaptive_sleep_brightness"] is not None or data["adaptive_sleep_kelvin"] is not None:
            sleep = {"brightness": data["adaptive_sleep_brightness"], "kelvin": data["adaptive_sleep_kelvin"]}
        changes: dict[str, object] = {
            name: data["adaptive_" + name]
            for name in ("min_brightness", "max_brightness", "min_kelvin", "max_kelvin")
            if data["adaptive_" + name] is not None  # left empty: kept
        }
        changes["sleep"] = sleep
        return changes


class HomeAndAdaptiveForm(HomeSettingsForm, AdaptiveProfileForm):
    """The home's settings page: name, time zone, place, and its adaptive curve."""


class LanguageForm(forms.Form):
    """The language the user wants the dashboard in; empty: the browser's."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser's language")), *settings.LANGUAGES],
    )
    next = forms.CharField(required=False)
