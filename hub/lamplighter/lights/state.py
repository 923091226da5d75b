"""A light's state between the model's columns and the protocol's state object.

The protocol (firmware/protocol.py) says what a state of each kind holds and how a partial
update merges; this module only maps it onto the Light columns (desired_*, reported_*) and turns
a refused state into the hub's error.
"""

from typing import Annotated, Any

import pydantic
from django.core.exceptions import ValidationError
from ninja import Field
from pydantic import StrictBool, StrictInt, model_validator

from lamplighter.firmware import protocol
from lamplighter.infra.api_types import InputSchema
from lamplighter.lights.models import Light

# The state fields besides `on`, as the API, scenes and the protocol name them.
STATE_FIELDS = ("brightness", "color_temp_kelvin", "rgb")
# What each kind's state holds besides `on`.
KIND_FIELDS: dict[str, tuple[str, ...]] = {kind: protocol.kind_fields(kind) for kind in protocol.LIGHT_KINDS}
# The device's capability (its hello's "lights") from which it takes brightness and colour.
RICH_LIGHTS = protocol.LIGHTS_RICH


class LightStateError(ValidationError):
    """A state or transition a light cannot take (the API answers 422; nothing is stored)."""


Byte = Annotated[StrictInt, Field(ge=0, le=protocol.MAX_BRIGHTNESS)]
Kelvin = Annotated[StrictInt, Field(ge=protocol.MIN_KELVIN, le=protocol.MAX_KELVIN)]
Rgb = Annotated[list[Byte], Field(min_length=3, max_length=3, description="[r, g, b], 0-255 each")]


class LightStateIn(InputSchema):
    """A desired state, merged into the current one: fields left out keep their value
    ({"brightness": 40} keeps on/off and the colour; {"on": true} comes back at the last
    brightness and colour). At least one field besides transition_ms.

    The one schema of a command to a light, whoever sends it: the REST body, the dashboard's
    light.set, the MQTT bridge (after translating Home Assistant's fields), scenes and schedules.
    """

    on: StrictBool | None = None
    brightness: Byte | None = Field(None, description="0-255 (dimmable, tunable_white, rgb)")
    color_temp_kelvin: Kelvin | None = Field(None, description="within the light's range (tunable_white)")
    rgb: Rgb | None = Field(None, description="[r, g, b] (rgb)")
    transition_ms: Annotated[StrictInt, Field(ge=0, le=protocol.MAX_TRANSITION_MS)] | None = Field(
        None, description="fade to the state over this many milliseconds (at most one hour)"
    )

    @model_validator(mode="after")
    def _something_asked(self) -> "LightStateIn":
        if self.state() == {}:
            raise ValueError("give at least one of on, brightness, color_temp_kelvin, rgb")
        return self

    def state(self) -> dict[str, Any]:
        """The partial state asked for (the fields given)."""
        return {
            key: value
            for key, value in (
                ("on", self.on),
                ("brightness", self.brightness),
                ("color_temp_kelvin", self.color_temp_kelvin),
                ("rgb", self.rgb),
            )
            if value is not None
        }


def light_command(data: Any) -> LightStateIn:
    """A command to a light (a JSON object), checked by the one schema; LightStateError naming
    each refused field otherwise."""
    try:
        return LightStateIn.model_validate(data)
    except pydantic.ValidationError as error:
        raise LightStateError(refusal_reasons(error)) from error


def command_refusal(error: Exception) -> tuple[int, str] | None:
    """The status and reason every interface gives for a command that failed with this error
    (None: not a refusal of the command, let it propagate)."""
    from django.db import InterfaceError, OperationalError

    from lamplighter.infra.database_unavailable import UNAVAILABLE

    if isinstance(error, LightStateError):
        return 422, "; ".join(error.messages)
    if isinstance(error, Light.DoesNotExist):
        return 404, "not found"
    if isinstance(error, OperationalError | InterfaceError):
        return 503, UNAVAILABLE
    return None


def refusal_reasons(error: pydantic.ValidationError) -> list[str]:
    """Each of a schema's refusals as a sentence naming its field ("brightness: ...")."""
    reasons = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = "unknown field" if problem["type"] == "extra_forbidden" else problem["msg"]
        reasons.append(f"{where}: {message}" if where else message)
    return reasons


def pack_rgb(rgb: list[int] | tuple[int, ...] | None) -> int | None:
    """[r, g, b] as the one integer 0xRRGGBB the columns hold."""
    if rgb is None:
        return None
    red, green, blue = rgb
    return (red << 16) | (green << 8) | blue


def unpack_rgb(value: int | None) -> list[int] | None:
    """0xRRGGBB as [r, g, b]."""
    if value is None:
        return None
    return [(value >> 16) & 255, (value >> 8) & 255, value & 255]


def kelvin_range(light: Light) -> tuple[int, int] | None:
    """The range a tunable white light's colour temperature must lie in (None for other kinds)."""
    return (light.min_kelvin, light.max_kelvin) if light.kind == protocol.KIND_TUNABLE_WHITE else None


def desired_state(light: Light) -> dict[str, Any]:
    """The light's desired state as the protocol carries it (the fields of its kind)."""
    return _state(
        light.kind,
        light.desired_on,
        light.desired_brightness,
        light.desired_color_temp_kelvin,
        light.desired_rgb,
    )


def _state(
    kind: str, on: bool, brightness: int | None, kelvin: int | None, rgb: int | None
) -> dict[str, Any]:
    fields = KIND_FIELDS.get(kind, ())
    state: dict[str, Any] = {"on": bool(on)}
    if "brightness" in fields and brightness is not None:
        state["brightness"] = brightness
    if "color_temp_kelvin" in fields and kelvin is not None:
        state["color_temp_kelvin"] = kelvin
    if "rgb" in fields and rgb is not None:
        state["rgb"] = unpack_rgb(rgb)
    return state


def default_state(kind: str, min_kelvin: int, max_kelvin: int, on: bool = False) -> dict[str, Any]:
    """The state a light of this kind starts from (the protocol's: full brightness, a neutral
    white, white light)."""
    kelvin = (min_kelvin, max_kelvin) if kind == protocol.KIND_TUNABLE_WHITE else None
    state: dict[str, Any] = protocol.initial_state(kind, kelvin)
    state["on"] = on
    return state


def set_desired(light: Light, state: dict[str, Any]) -> None:
    """Put a (checked) state into the light's desired columns; fields its kind lacks become NULL."""
    fields = KIND_FIELDS.get(light.kind, ())
    light.desired_on = bool(state["on"])
    light.desired_hold = False  # an ordinary state; _store_desired marks a held one
    light.desired_brightness = state.get("brightness") if "brightness" in fields else None
    light.desired_color_temp_kelvin = (
        state.get("color_temp_kelvin") if "color_temp_kelvin" in fields else None
    )
    light.desired_rgb = pack_rgb(state.get("rgb")) if "rgb" in fields else None


def set_reported(light: Light, state: dict[str, Any]) -> None:
    """Put a reported state into the light's reported columns.

    A field the report lacks (a device that only knows on/off drives a dimmable light) is taken
    as the desired one: that device cannot do better, and the light is not pending for it.
    """
    fields = KIND_FIELDS.get(light.kind, ())
    light.reported_on = bool(state["on"])
    light.reported_brightness = (
        state.get("brightness", light.desired_brightness) if "brightness" in fields else None
    )
    light.reported_color_temp_kelvin = (
        state.get("color_temp_kelvin", light.desired_color_temp_kelvin)
        if "color_temp_kelvin" in fields
        else None
    )
    light.reported_rgb = (
        (pack_rgb(state["rgb"]) if "rgb" in state else light.desired_rgb) if "rgb" in fields else None
    )


def merged_desired(light: Light, update: dict[str, Any]) -> dict[str, Any]:
    """The light's next desired state: `update` (a partial state) merged into its desired state
    and checked against its kind and range; LightStateError names what is wrong."""
    try:
        return protocol.merge_state(desired_state(light), update, light.kind, kelvin_range(light))  # type: ignore[no-any-return]
    except protocol.ProtocolError as error:
        raise LightStateError(f"{light.name}: {error.reason}") from error


def merged_desired_lenient(light: Light, update: dict[str, Any]) -> dict[str, Any]:
    """merged_desired for a change asked of many lights at once (the home-wide call, a schedule of
    a room): fields the light's kind lacks are left out, a colour temperature is brought into its
    range."""
    fields = KIND_FIELDS.get(light.kind, ())
    fitted = {key: value for key, value in update.items() if key == "on" or key in fields}
    kelvin = fitted.get("color_temp_kelvin")
    if isinstance(kelvin, int) and not isinstance(kelvin, bool):
        fitted["color_temp_kelvin"] = min(max(kelvin, light.min_kelvin), light.max_kelvin)
    return merged_desired(light, fitted)


def check_update(update: dict[str, Any]) -> dict[str, Any]:
    """A partial state (no transition) checked by the command schema, before any light is read:
    LightStateError for a field no kind has or a value no light takes."""
    if "transition_ms" in update:
        raise LightStateError("transition_ms: unknown state field")
    light_command(update)
    return update


def check_transition(value: int | None) -> int | None:
    """A transition in milliseconds, checked (None: none asked)."""
    if value is None:
        return None
    try:
        return protocol.check_transition(value)  # type: ignore[no-any-return]
    except protocol.ProtocolError as error:
        raise LightStateError(error.reason) from error
