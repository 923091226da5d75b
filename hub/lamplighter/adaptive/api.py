"""REST endpoints of adaptive white: the curve now, resuming a light; the schemas homes and lights use."""

from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from pydantic import StrictInt

from lamplighter.adaptive import selectors, services
from lamplighter.firmware import protocol
from lamplighter.homes.selectors import home_get
from lamplighter.infra.api_types import DatabaseId, Refused
from lamplighter.lights import selectors as light_selectors
from lamplighter.lights.api import LightOut

router = Router(tags=["adaptive"])

Byte = Annotated[StrictInt, Field(ge=0, le=protocol.MAX_BRIGHTNESS)]
Kelvin = Annotated[StrictInt, Field(ge=protocol.MIN_KELVIN, le=protocol.MAX_KELVIN)]


class SleepSchema(Schema):
    """The night's brightness and white (at solar midnight) in place of min_brightness and min_kelvin."""

    brightness: Byte
    kelvin: Kelvin


class AdaptiveProfileIn(Schema):
    """Changes to a home's adaptive profile (fields left out keep their value; sleep null removes it)."""

    min_brightness: Byte | None = Field(None, description="0-255, the night's brightness (default 51)")
    max_brightness: Byte | None = Field(None, description="0-255, the day's brightness (default 255)")
    min_kelvin: Kelvin | None = Field(None, description="the warmest white (default 2000 K)")
    max_kelvin: Kelvin | None = Field(None, description="the coldest white, at noon (default 5500 K)")
    sleep: SleepSchema | None = Field(None, description="optional night values; null removes them")

    def changes(self) -> dict:
        """The fields given (sleep: its values, or None when sent as null)."""
        given = self.model_fields_set
        changes: dict = {
            name: getattr(self, name)
            for name in services.PROFILE_FIELDS
            if name in given and getattr(self, name) is not None
        }
        if "sleep" in given:
            changes["sleep"] = None if self.sleep is None else self.sleep.model_dump()
        return changes


class AdaptiveProfileOut(Schema):
    """A home's adaptive profile: what its curve runs between (each light takes the colour
    temperatures brought into its own range)."""

    min_brightness: int
    max_brightness: int
    min_kelvin: int
    max_kelvin: int
    sleep: SleepSchema | None


class AdaptiveNowOut(Schema):
    """The home's curve at the moment asked: brightness 0-255, colour temperature, sun position
    (1 at solar noon, 0 at sunrise and sunset, -1 at solar midnight)."""

    brightness: int
    color_temp_kelvin: int
    sun_position: float


class Error(Schema):
    """An error."""

    detail: str


@router.get("/homes/{home_id}/adaptive", response={200: AdaptiveNowOut, 404: Error, 422: Refused})
def home_adaptive_now(request: HttpRequest, home_id: DatabaseId) -> dict:
    """The home's adaptive curve now (422 while the home has no coordinates)."""
    home = home_get(user=request.user, home_id=home_id)
    now_point = selectors.home_curve_now(home=home, at=timezone.now())
    if now_point is None:
        raise services.AdaptiveError(
            "adaptive: set the home's latitude and longitude first (the curve follows the sun)"
        )
    return {
        "brightness": round(now_point.brightness),
        "color_temp_kelvin": round(now_point.kelvin),
        "sun_position": round(now_point.sun_position, 4),
    }


@router.post("/lights/{light_id}/adaptive_resume", response={200: LightOut, 404: Error})
def light_adaptive_resume(request: HttpRequest, light_id: DatabaseId) -> dict:
    """Resume what a manual change paused: the light fades back to the curve (members)."""
    light = light_selectors.light_get(user=request.user, light_id=light_id)
    services.light_adaptive_resume(light=light)
    return light_selectors.light_payload(light_selectors.light_get(user=request.user, light_id=light_id))
