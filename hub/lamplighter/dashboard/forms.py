"""Dashboard forms: they only check shapes; the services decide what is valid."""

from django import forms
from django.utils.translation import gettext_lazy as _

from lamplighter.devices.models import Device
from lamplighter.homes.models import Home, Room


class NameForm(forms.Form):
    """A single name: a home, a room or a device."""

    name = forms.CharField(label=_("Name"), max_length=64, strip=True)


class RoomChoiceField(forms.ModelChoiceField):
    """Rooms of one home, shown by their name alone."""

    def label_from_instance(self, obj: Room) -> str:  # type: ignore[override]
        """The room's name (its home is the page's)."""
        return obj.name


# The light kinds (firmware/protocol.py's LIGHT_KINDS), as an owner picks one.
LIGHT_KIND_CHOICES = [
    ("onoff", _("On/off")),
    ("dimmable", _("Dimmable")),
    ("tunable_white", _("Tunable white")),
    ("rgb", _("Colour (RGB)")),
]


class LightForm(forms.Form):
    """A light: its name, its room, (optionally) the device that drives it, all of one home, and
    its kind (with the colour-temperature range of a tunable white)."""

    name = forms.CharField(label=_("Name"), max_length=64, strip=True)
    room = RoomChoiceField(label=_("Room"), queryset=Room.objects.none(), empty_label=None)
    device = forms.ModelChoiceField(
        label=_("Device"), queryset=Device.objects.none(), required=False, empty_label=_("No device yet")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=LIGHT_KIND_CHOICES, initial="onoff", required=False)
    min_kelvin = forms.IntegerField(
        label=_("Warmest white (K)"), required=False, help_text=_("Tunable white only; 2700 when empty.")
    )
    max_kelvin = forms.IntegerField(
        label=_("Coldest white (K)"), required=False, help_text=_("Tunable white only; 6500 when empty.")
    )

    def __init__(self, *args: object, home: Home, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Only this home's rooms and devices can be chosen: another home's id is "not a valid choice".
        room_field = self.fields["room"]
        device_field = self.fields["device"]
        assert isinstance(room_field, forms.ModelChoiceField)
        assert isinstance(device_field, forms.ModelChoiceField)
        room_field.queryset = Room.objects.filter(home=home).order_by("name")
        device_field.queryset = Device.objects.filter(home=home).order_by("name")
