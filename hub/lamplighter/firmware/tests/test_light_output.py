"""Light outputs: the CIE 1931 curve, channel mixing, and fades driven by the test's clock."""

import unittest

from .. import protocol
from ..light_output import LightOutputs, duties, lightness_to_duty, target_vector
from .support import ClockedHal, make_folder, remove_folder

DUTY_MAX = 65535  # full duty (duty_u16)
DIMMABLE = {"kind": protocol.KIND_DIMMABLE, "pin": 5}
TUNABLE = {"kind": protocol.KIND_TUNABLE_WHITE, "pins": {"cold": 6, "warm": 7}, "kelvin": [2700, 6500]}
RGB = {"kind": protocol.KIND_RGB, "pins": {"r": 8, "g": 9, "b": 10}}
ONOFF = {"kind": protocol.KIND_ONOFF, "pin": 2}


def cie_duty(level):
    """The CIE 1931 formula in floating point, for comparison."""
    lightness = 100.0 * level / 65535
    if lightness <= 8:
        return 65535 * lightness / 903.3
    return 65535 * ((lightness + 16) / 116) ** 3


class CurveTest(unittest.TestCase):
    def test_ends_and_half(self):
        self.assertEqual(lightness_to_duty(0), 0)
        self.assertEqual(lightness_to_duty(65535), DUTY_MAX)
        # Half lightness is about 18 % duty: that is what looks like half.
        self.assertTrue(0.17 < lightness_to_duty(32768) / 65535 < 0.19)

    def test_close_to_the_formula_and_never_decreasing(self):
        previous = 0
        for level in range(0, 65536, 97):
            duty = lightness_to_duty(level)
            self.assertTrue(abs(duty - cie_duty(level)) <= 40, (level, duty, cie_duty(level)))
            self.assertTrue(duty >= previous, level)
            previous = duty

    def test_lowest_brightness_still_glows(self):
        self.assertTrue(lightness_to_duty(1 * 257) > 0)


class DutiesTest(unittest.TestCase):
    def test_dimmable(self):
        self.assertEqual(
            duties(protocol.KIND_DIMMABLE, target_vector(protocol.KIND_DIMMABLE, {"on": False})), [0]
        )
        full = target_vector(protocol.KIND_DIMMABLE, {"on": True, "brightness": 255})
        self.assertEqual(duties(protocol.KIND_DIMMABLE, full), [DUTY_MAX])
        half = duties(
            protocol.KIND_DIMMABLE, target_vector(protocol.KIND_DIMMABLE, {"on": True, "brightness": 128})
        )
        self.assertTrue(11000 < half[0] < 13000)

    def test_tunable_white_shares_the_output_between_cold_and_warm(self):
        kind = protocol.KIND_TUNABLE_WHITE
        warm = duties(kind, [65535, 2700], [2700, 6500])
        cold = duties(kind, [65535, 6500], [2700, 6500])
        middle = duties(kind, [65535, 4600], [2700, 6500])
        self.assertEqual(warm, [0, DUTY_MAX])
        self.assertEqual(cold, [DUTY_MAX, 0])
        self.assertEqual(sum(middle), DUTY_MAX)
        self.assertTrue(abs(middle[0] - middle[1]) < 100)
        dimmed = duties(kind, [32768, 4600], [2700, 6500])
        self.assertEqual(sum(dimmed), lightness_to_duty(32768))
        # Outside the range (a value saved before the range changed): the nearest end.
        self.assertEqual(duties(kind, [65535, 9000], [2700, 6500]), [DUTY_MAX, 0])

    def test_rgb_scales_each_channel_by_brightness(self):
        kind = protocol.KIND_RGB
        vector = target_vector(kind, {"on": True, "brightness": 255, "rgb": [255, 0, 128]})
        self.assertEqual(duties(kind, vector)[:2], [DUTY_MAX, 0])
        self.assertEqual(duties(kind, vector)[2], lightness_to_duty(65535 * 128 // 255))
        dim = target_vector(kind, {"on": True, "brightness": 128, "rgb": [255, 255, 255]})
        self.assertEqual(duties(kind, dim), [lightness_to_duty(128 * 257)] * 3)


class OutputsTest(unittest.TestCase):
    def setUp(self):
        self.folder = make_folder()
        self.hal = ClockedHal(self.folder)
        self.outputs = LightOutputs(self.hal)
        self.wakes = []
        self.outputs.wake = lambda: self.wakes.append(self.hal.now)

    def tearDown(self):
        remove_folder(self.folder)

    def at(self, ms):
        """Move the clock to ms after the start and step the fades; True while one runs."""
        self.hal.now = 1000 + ms
        return self.outputs.step()

    def test_no_transition_sets_at_once(self):
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255})
        self.assertEqual(self.hal.duty(5), DUTY_MAX)
        self.assertTrue(self.hal.pin_get(5))
        self.outputs.drive("a", DIMMABLE, {"on": False, "brightness": 255})
        self.assertEqual(self.hal.duty(5), 0)
        self.assertEqual(self.wakes, [])

    def test_on_off_light_is_a_plain_pin(self):
        self.outputs.drive("a", ONOFF, {"on": True}, 5000)
        self.assertIs(self.hal.pins[2], True)
        self.assertEqual(self.hal.duties, {})
        self.assertFalse(self.outputs.step())

    def test_fade_goes_from_start_to_target_in_steps(self):
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 0})
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255}, 1000)
        self.assertEqual(self.wakes, [1000])
        self.assertTrue(self.at(0))
        self.assertEqual(self.hal.duty(5), 0)
        self.assertTrue(self.at(500))
        self.assertEqual(self.hal.duty(5), lightness_to_duty(65535 // 2))
        self.assertTrue(self.at(999))
        self.assertFalse(self.at(1000))
        self.assertEqual(self.hal.duty(5), DUTY_MAX)
        self.assertFalse(self.at(5000))

    def test_a_new_command_mid_fade_starts_from_the_output_of_that_moment(self):
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255})
        self.outputs.drive("a", DIMMABLE, {"on": False, "brightness": 255}, 1000)
        self.at(250)
        seen = self.hal.duty(5)
        self.assertTrue(0 < seen < DUTY_MAX)
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255}, 1000)
        self.assertEqual(self.hal.duty(5), seen)  # no jump
        self.at(251)
        self.assertTrue(abs(self.hal.duty(5) - seen) < 300)
        self.at(750)
        self.assertTrue(seen < self.hal.duty(5) < DUTY_MAX)
        self.assertFalse(self.at(1250))
        self.assertEqual(self.hal.duty(5), DUTY_MAX)

    def test_a_command_without_transition_mid_fade_ends_it(self):
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 0})
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255}, 1000)
        self.at(300)
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 10})
        self.assertEqual(self.hal.duty(5), lightness_to_duty(10 * 257))
        self.assertFalse(self.at(400))
        self.assertEqual(self.hal.duty(5), lightness_to_duty(10 * 257))

    def test_thirty_minute_sunrise_is_one_command_and_never_goes_back(self):
        self.outputs.drive("a", TUNABLE, {"on": False, "brightness": 255, "color_temp_kelvin": 2700})
        state = {"on": True, "brightness": 255, "color_temp_kelvin": 6500}
        self.outputs.drive("a", TUNABLE, state, 30 * 60 * 1000)
        totals = []
        colds = []
        for second in range(0, 30 * 60 + 1, 15):
            running = self.at(second * 1000)
            totals.append(self.hal.duty(6) + self.hal.duty(7))
            colds.append(self.hal.duty(6))
            self.assertEqual(running, second < 30 * 60)
        self.assertEqual(totals[0], 0)
        self.assertEqual(totals[-1], DUTY_MAX)
        self.assertEqual(self.hal.duty(6), DUTY_MAX)
        for index in range(1, len(totals)):
            self.assertTrue(totals[index] >= totals[index - 1], index)
            self.assertTrue(colds[index] >= colds[index - 1], index)
        self.assertTrue(0 < totals[len(totals) // 2] < DUTY_MAX)

    def test_rising_from_dark_takes_the_new_colour_and_fading_out_keeps_the_old(self):
        self.outputs.drive("a", RGB, {"on": False, "brightness": 255, "rgb": [255, 0, 0]})
        self.outputs.drive("a", RGB, {"on": True, "brightness": 255, "rgb": [0, 0, 255]}, 1000)
        self.at(500)
        self.assertEqual((self.hal.duty(8), self.hal.duty(9)), (0, 0))
        self.assertTrue(self.hal.duty(10) > 0)
        self.at(1000)
        self.outputs.drive("a", RGB, {"on": False, "brightness": 255, "rgb": [0, 255, 0]}, 1000)
        self.at(1500)
        self.assertEqual((self.hal.duty(8), self.hal.duty(9)), (0, 0))
        self.assertTrue(0 < self.hal.duty(10) < DUTY_MAX)
        self.assertFalse(self.at(2000))
        self.assertEqual([self.hal.duty(pin) for pin in (8, 9, 10)], [0, 0, 0])

    def test_changes_while_dark_need_no_fade(self):
        self.outputs.drive("a", RGB, {"on": False, "brightness": 255, "rgb": [255, 0, 0]})
        self.outputs.drive("a", RGB, {"on": False, "brightness": 40, "rgb": [0, 0, 255]}, 1000)
        self.assertEqual(self.wakes, [])
        self.assertFalse(self.outputs.step())

    def test_several_lights_fade_independently(self):
        self.outputs.drive("a", DIMMABLE, {"on": False, "brightness": 255})
        self.outputs.drive("b", RGB, {"on": False, "brightness": 255, "rgb": [255, 255, 255]})
        self.outputs.drive("a", DIMMABLE, {"on": True, "brightness": 255}, 1000)
        self.outputs.drive("b", RGB, {"on": True, "brightness": 255, "rgb": [255, 255, 255]}, 2000)
        self.at(1000)
        self.assertEqual(self.hal.duty(5), DUTY_MAX)
        self.assertTrue(0 < self.hal.duty(8) < DUTY_MAX)
        self.assertFalse(self.at(2000))
        self.assertEqual(self.hal.duty(8), DUTY_MAX)

    def test_a_light_without_pins_is_not_driven(self):
        self.outputs.drive("a", {"kind": protocol.KIND_RGB}, {"on": True, "rgb": [1, 2, 3]}, 1000)
        self.outputs.drive("b", {"kind": protocol.KIND_DIMMABLE, "pin": None}, {"on": True}, 1000)
        self.assertEqual(self.hal.duties, {})
        self.assertFalse(self.outputs.step())


if __name__ == "__main__":
    unittest.main()
