"""A white of a colour temperature as an RGB colour, for RGB lights that follow the curve."""

import math


def kelvin_to_rgb(kelvin: float) -> list[int]:
    """The [r, g, b] (0-255) of a black body at this colour temperature, at full brightness.

    The usual curve fit of the CIE 1964 black-body colours (Tanner Helland's, valid from 1000 to
    40000 K; outside, the bound's colour): red saturates below 6600 K, blue is zero below 1900 K.
    """
    temp = min(max(kelvin, 1000.0), 40000.0) / 100.0
    if temp <= 66:
        red = 255.0
        green = 99.4708025861 * math.log(temp) - 161.1195681661
        blue = 0.0 if temp <= 19 else 138.5177312231 * math.log(temp - 10) - 305.0447927307
    else:
        red = 329.698727446 * (temp - 60) ** -0.1332047592
        green = 288.1221695283 * (temp - 60) ** -0.0755148492
        blue = 255.0
    return [int(round(min(max(value, 0.0), 255.0))) for value in (red, green, blue)]
