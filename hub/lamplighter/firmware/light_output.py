"""Light outputs: PWM duty per channel through the CIE 1931 curve, colour mixing, and fades.

Pure and synchronous apart from run_fades (the small task that steps fades in the event
loop), so it is proven under MicroPython. Integer math only, every product below 2**30
(MicroPython's small ints: nothing allocated per step). The hardware layer's pwm_set takes
a duty of 0..65535 (machine.PWM.duty_u16); an on/off light is a plain pin (pin_set).
"""

from . import protocol
from .compat import asyncio, const, sleep_ms, ticks_diff
from .config import channels

_DUTY_MAX = const(65535)
_FADE_STEP_MS = const(20)  # 50 steps a second: smooth to the eye, little work for the loop
_LEVEL_PER_STEP = const(257)  # brightness 0..255 -> level 0..65535
_LINEAR_BELOW = const(5243)  # level of CIE lightness L* = 8
_SHARE_ONE = const(1024)


def lightness_to_duty(level):
    """CIE 1931: perceived lightness (level 0..65535, L* 0..100 %) to PWM duty 0..65535.

    Y = ((L* + 16) / 116) ** 3 above L* = 8, L* / 903.3 below; 50 % lightness is duty 18 %.
    """
    if level <= 0:
        return 0
    if level >= _DUTY_MAX:
        return _DUTY_MAX
    if level < _LINEAR_BELOW:
        return level * 1000 // 9033
    # t = (L* + 16) / 116 in 14-bit fixed point (0..16383), then Y = t ** 3.
    t = ((level * 14124) >> 16) + 2260
    y = (((t * t) >> 14) * t) >> 14
    return (y << 2) | (y >> 12)


def target_vector(kind, state):
    """What a state asks of the output: [level, colour...] (level 0 when off)."""
    level = state.get("brightness", protocol.MAX_BRIGHTNESS) * _LEVEL_PER_STEP if state["on"] else 0
    if kind == protocol.KIND_TUNABLE_WHITE:
        return [level, state.get("color_temp_kelvin", 0)]  # duties() clamps it into the range
    if kind == protocol.KIND_RGB:
        rgb = state.get("rgb") or (255, 255, 255)
        return [level, rgb[0], rgb[1], rgb[2]]
    return [level]


def duties(kind, vector, kelvin_range=None):
    """The duty of each channel for an output vector: [light] dimmable, [cold, warm], [r, g, b]."""
    level = vector[0]
    if kind == protocol.KIND_TUNABLE_WHITE:
        # The light's total output follows the curve; the colour temperature shares it
        # between the channels (constant brightness across the range).
        low, high = kelvin_range or protocol.DEFAULT_KELVIN_RANGE
        kelvin = min(max(vector[1], low), high)
        share = (kelvin - low) * _SHARE_ONE // (high - low)
        total = lightness_to_duty(level)
        cold = (total * share) >> 10
        return [cold, total - cold]
    if kind == protocol.KIND_RGB:
        return [lightness_to_duty(level * channel // 255) for channel in vector[1:]]
    return [lightness_to_duty(level)]


class LightOutputs:
    """Drives every light's channels; fades run when step() is called (see run_fades)."""

    def __init__(self, hal):
        self.hal = hal
        # light key -> [start vector, target vector, start ticks, duration ms, item, pins]
        self.fades = {}
        self.outputs = {}  # light key -> vector now on the channels
        self.wake = None  # called when a fade starts (run_fades' event)

    def drive(self, key, item, state, transition_ms=0):
        """Show state on the light's channels (item: kind, pin/pins, kelvin), fading over transition_ms.

        A fade starts from what the channels show at this moment, even mid-fade.
        """
        # The output pins in the order duties() gives them.
        kind = item.get("kind", protocol.KIND_ONOFF)
        names = channels(kind)
        if names is None:
            pins = None if item.get("pin") is None else [item["pin"]]
        else:
            pins = [item["pins"][name] for name in names] if item.get("pins") else None
        if pins is None:
            return
        if kind == protocol.KIND_ONOFF:
            self.hal.pin_set(pins[0], state["on"])
            return
        target = target_vector(kind, state)
        now = self.hal.ticks_ms()
        current = self.vector(key, now)
        if current is None:
            current = [0] + target[1:]  # never driven: dark, as the channel starts
        if not transition_ms or current == target or not (current[0] or target[0]):
            self.fades.pop(key, None)
            self._show(key, item, pins, target)
            return
        if not current[0]:
            current[1:] = target[1:]  # from dark: rise in the new colour
        elif not target[0]:
            target[1:] = current[1:]  # to dark: fade out in the colour it has
        self.fades[key] = [current, target, now, transition_ms, item, pins]
        if self.wake is not None:
            self.wake()

    def vector(self, key, now):
        """The output vector of a light at ticks now (mid-fade: interpolated); None before any drive."""
        fade = self.fades.get(key)
        if fade is None:
            current = self.outputs.get(key)
            return None if current is None else list(current)
        start, target, started, duration = fade[0], fade[1], fade[2], fade[3]
        elapsed = ticks_diff(now, started)
        if elapsed >= duration:
            return list(target)
        # elapsed / duration in 14-bit fixed point (0..16384), without products past 2**30.
        shift = 0
        while (duration >> shift) > 65535:
            shift += 1
        part = ((max(0, elapsed) >> shift) << 14) // (duration >> shift)
        return [start[i] + (((target[i] - start[i]) * part) >> 14) for i in range(len(start))]

    def step(self, now=None):
        """Advance every fade to ticks now; True while a fade is still running."""
        if now is None:
            now = self.hal.ticks_ms()
        for key in list(self.fades):
            fade = self.fades[key]
            vector = self.vector(key, now)
            if ticks_diff(now, fade[2]) >= fade[3]:
                del self.fades[key]
            self._show(key, fade[4], fade[5], vector)
        return bool(self.fades)

    def _show(self, key, item, pins, vector):
        if self.outputs.get(key) == vector:
            return
        self.outputs[key] = vector
        values = duties(item.get("kind"), vector, item.get("kelvin"))
        for index in range(len(pins)):
            self.hal.pwm_set(pins[index], values[index])


async def run_fades(outputs):
    """The fade task: steps every _FADE_STEP_MS while a fade runs, sleeps until one starts."""
    event = asyncio.Event()
    outputs.wake = event.set
    while True:
        if outputs.step():
            await sleep_ms(_FADE_STEP_MS)
        else:
            event.clear()
            if not outputs.fades:
                await event.wait()
