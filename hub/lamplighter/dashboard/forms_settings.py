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


class LanguageForm(forms.Form):
    """The language the user wants the dashboard in; empty: the browser's."""

    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser's language")), *settings.LANGUAGES],
    )
    next = forms.CharField(required=False)
