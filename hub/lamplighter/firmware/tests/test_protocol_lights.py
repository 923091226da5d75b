"""The protocol's light kinds: state validation and merging, transitions, capabilities, samples."""

import json
import unittest

from .. import protocol
from .support import load_sample, load_sample_json

RICH_SAMPLES = (protocol.DEVICE_HELLO, protocol.HUB_WELCOME, protocol.STATE_SET, protocol.STATE_REPORT)
DIMMABLE = protocol.KIND_DIMMABLE
TUNABLE = protocol.KIND_TUNABLE_WHITE
RGB = protocol.KIND_RGB


def rich_sample(message_type):
    return load_sample(message_type + ".lights2")


class RichSamplesTest(unittest.TestCase):
    def test_rich_samples_parse_in_their_direction(self):
        for message_type in RICH_SAMPLES:
            allowed = (
                protocol.DEVICE_MESSAGE_TYPES
                if message_type in protocol.DEVICE_MESSAGE_TYPES
                else protocol.HUB_MESSAGE_TYPES
            )
            message = protocol.parse(rich_sample(message_type), allowed)
            self.assertEqual(message["type"], message_type)

    def test_hello_and_welcome_samples_announce_lights_2(self):
        for message_type in (protocol.DEVICE_HELLO, protocol.HUB_WELCOME):
            data = protocol.parse(rich_sample(message_type))["data"]
            self.assertEqual(protocol.lights_capability(data), protocol.LIGHTS_RICH)
            kinds = [entry["kind"] for entry in data["lights"]]
            self.assertEqual(sorted(kinds), sorted(protocol.LIGHT_KINDS))
            for entry in data["lights"]:
                self.assertEqual(
                    protocol.check_state(entry["state"], entry["kind"], entry.get("kelvin")), entry["state"]
                )

    def test_plain_samples_are_lights_1(self):
        for message_type in (protocol.DEVICE_HELLO, protocol.HUB_WELCOME):
            self.assertEqual(protocol.lights_capability(load_sample_json(message_type)["data"]), 1)

    def test_rich_samples_match_the_builders(self):
        data = load_sample_json(protocol.STATE_SET + ".lights2")["data"]
        rebuilt = protocol.build_state_set(
            [
                protocol.light_entry(
                    entry["room"],
                    entry["light"],
                    protocol.light_state(
                        entry["state"]["on"],
                        entry["state"].get("brightness"),
                        entry["state"].get("color_temp_kelvin"),
                        entry["state"].get("rgb"),
                    ),
                    entry["version"],
                    transition_ms=entry["transition_ms"],
                )
                for entry in data["lights"]
            ]
        )
        self.assertEqual(rebuilt, load_sample_json(protocol.STATE_SET + ".lights2"))
        welcome = load_sample_json(protocol.HUB_WELCOME + ".lights2")
        rebuilt = protocol.build_hub_welcome(
            welcome["data"]["device_id"],
            welcome["data"]["heartbeat_interval"],
            welcome["data"]["lights"],
            {"lights": protocol.LIGHTS_RICH},  # a lights-2 hub's welcome
        )
        self.assertEqual(rebuilt, welcome)


class CheckStateTest(unittest.TestCase):
    def reason(self, state, kind=None, kelvin_range=None):
        with self.assertRaises(protocol.ProtocolError) as caught:
            protocol.check_state(state, kind, kelvin_range)
        self.assertEqual(caught.exception.code, protocol.ERROR_BAD_DATA)
        return caught.exception.reason

    def test_each_kind_takes_its_fields(self):
        self.assertEqual(protocol.check_state({"on": True}, protocol.KIND_ONOFF), {"on": True})
        self.assertEqual(
            protocol.check_state({"on": True, "brightness": 0}, DIMMABLE), {"on": True, "brightness": 0}
        )
        self.assertEqual(
            protocol.check_state(
                {"on": False, "brightness": 255, "color_temp_kelvin": 2700}, TUNABLE, [2700, 6500]
            ),
            {"on": False, "brightness": 255, "color_temp_kelvin": 2700},
        )
        self.assertEqual(
            protocol.check_state({"on": True, "rgb": (1, 2, 3)}, RGB), {"on": True, "rgb": [1, 2, 3]}
        )

    def test_bad_values_name_the_field(self):
        self.assertIn("brightness", self.reason({"on": True, "brightness": 300}, DIMMABLE))
        self.assertIn("brightness", self.reason({"on": True, "brightness": -1}))
        self.assertIn("brightness", self.reason({"on": True, "brightness": True}, DIMMABLE))
        self.assertIn("brightness", self.reason({"on": True, "brightness": 12.5}, DIMMABLE))
        self.assertIn("rgb", self.reason({"on": True, "rgb": [255, 0]}, RGB))
        self.assertIn("rgb", self.reason({"on": True, "rgb": [255, 0, 256]}, RGB))
        self.assertIn("rgb", self.reason({"on": True, "rgb": "red"}))
        self.assertIn(
            "color_temp_kelvin", self.reason({"on": True, "color_temp_kelvin": 9000}, TUNABLE, [2700, 6500])
        )
        self.assertIn("color_temp_kelvin", self.reason({"on": True, "color_temp_kelvin": 999}))
        self.assertIn("on", self.reason({"brightness": 3}, DIMMABLE))

    def test_a_field_the_kind_lacks_is_an_error(self):
        self.assertIn("rgb", self.reason({"on": True, "rgb": [1, 2, 3]}, protocol.KIND_ONOFF))
        self.assertIn("brightness", self.reason({"on": True, "brightness": 3}, protocol.KIND_ONOFF))
        self.assertIn("color_temp_kelvin", self.reason({"on": True, "color_temp_kelvin": 3000}, RGB))
        self.assertIn("kind", self.reason({"on": True}, "rgbw"))

    def test_without_a_kind_unknown_keys_are_kept(self):
        state = {"on": True, "brightness": 3, "effect": "candle"}
        self.assertIs(protocol.check_state(state), state)

    def test_kelvin_range_and_kind(self):
        self.assertEqual(protocol.check_kelvin_range((2200, 4000)), [2200, 4000])
        for bad in ([2700], [6500, 2700], [500, 6500], [2700, 25000], "warm", [2700, 2700], [2700.5, 6500]):
            with self.assertRaises(protocol.ProtocolError):
                protocol.check_kelvin_range(bad)
        for kind in protocol.LIGHT_KINDS:
            self.assertIsInstance(protocol.kind_fields(kind), tuple)
        with self.assertRaises(protocol.ProtocolError):
            protocol.kind_fields(["rgb"])


class MergeStateTest(unittest.TestCase):
    def test_partial_update_keeps_the_rest(self):
        current = {"on": True, "brightness": 200, "rgb": [255, 0, 0]}
        self.assertEqual(
            protocol.merge_state(current, {"brightness": 40}, RGB),
            {"on": True, "brightness": 40, "rgb": [255, 0, 0]},
        )
        self.assertEqual(current["brightness"], 200)  # not changed in place

    def test_off_and_on_again_returns_to_the_last_brightness_and_colour(self):
        state = {"on": True, "brightness": 77, "color_temp_kelvin": 3100}
        state = protocol.merge_state(state, {"on": False}, TUNABLE, [2700, 6500])
        self.assertEqual(state, {"on": False, "brightness": 77, "color_temp_kelvin": 3100})
        state = protocol.merge_state(state, {"on": True}, TUNABLE, [2700, 6500])
        self.assertEqual(state, {"on": True, "brightness": 77, "color_temp_kelvin": 3100})

    def test_missing_fields_come_from_the_kinds_defaults(self):
        self.assertEqual(protocol.merge_state({"on": True}, {}, DIMMABLE), {"on": True, "brightness": 255})
        self.assertEqual(
            protocol.merge_state({"on": False}, {"on": True}, TUNABLE, [2000, 3000]),
            {"on": True, "brightness": 255, "color_temp_kelvin": 3000},
        )
        self.assertEqual(
            protocol.merge_state({"on": True, "brightness": 9}, {}, protocol.KIND_ONOFF), {"on": True}
        )

    def test_bad_update_raises_and_changes_nothing(self):
        current = {"on": True, "brightness": 200}
        for update in ({"brightness": 300}, {"on": "yes"}, {"rgb": [1, 2, 3]}, [], {"brightness": None}):
            with self.assertRaises(protocol.ProtocolError):
                protocol.merge_state(current, update, DIMMABLE)
        self.assertEqual(current, {"on": True, "brightness": 200})

    def test_initial_states(self):
        self.assertEqual(protocol.initial_state(protocol.KIND_ONOFF), {"on": False})
        self.assertEqual(
            protocol.initial_state(RGB), {"on": False, "brightness": 255, "rgb": [255, 255, 255]}
        )
        self.assertEqual(protocol.initial_state(TUNABLE)["color_temp_kelvin"], 4000)
        self.assertEqual(protocol.initial_state(TUNABLE, [5000, 6500])["color_temp_kelvin"], 5000)

    def test_actions_keep_brightness_and_colour(self):
        state = {"on": True, "brightness": 12, "rgb": [1, 2, 3]}
        self.assertEqual(
            protocol.apply_action(state, protocol.ACTION_OFF),
            {"on": False, "brightness": 12, "rgb": [1, 2, 3]},
        )
        self.assertEqual(protocol.apply_action(state, protocol.ACTION_TOGGLE)["on"], False)
        self.assertEqual(protocol.apply_action({"on": False}, protocol.ACTION_ON), {"on": True})


class TransitionAndCapabilityTest(unittest.TestCase):
    def test_transition_bounds(self):
        self.assertEqual(protocol.check_transition(0), 0)
        self.assertEqual(protocol.check_transition(30 * 60 * 1000), 1800000)
        self.assertEqual(protocol.check_transition(protocol.MAX_TRANSITION_MS), protocol.MAX_TRANSITION_MS)
        for bad in (-1, protocol.MAX_TRANSITION_MS + 1, 1.5, "100", True, None):
            with self.assertRaises(protocol.ProtocolError) as caught:
                protocol.check_transition(bad)
            self.assertIn("transition_ms", caught.exception.reason)

    def test_state_set_with_a_bad_transition_or_state_is_rejected(self):
        good = protocol.light_entry("Hall", "Strip", {"on": True, "brightness": 10}, 2, transition_ms=500)
        protocol.validate(protocol.build_state_set([good]), protocol.HUB_MESSAGE_TYPES)
        bad_entries = [
            protocol.light_entry("Hall", "Strip", {"on": True}, 2, transition_ms=-5),
            protocol.light_entry("Hall", "Strip", {"on": True}, 2, transition_ms=10**9),
            protocol.light_entry("Hall", "Strip", {"on": True, "brightness": 300}, 2),
            protocol.light_entry("Hall", "Strip", {"on": True, "rgb": [1, 2]}, 2),
            protocol.light_entry(
                "Hall", "Strip", {"on": True, "rgb": [1, 2, 3]}, 2, kind=protocol.KIND_ONOFF
            ),
            protocol.light_entry("Hall", "Strip", {"on": True}, 2, kind="disco"),
            protocol.light_entry(
                "Hall", "Strip", {"on": True, "color_temp_kelvin": 7000}, 2, kind=TUNABLE, kelvin=[2700, 6500]
            ),
            protocol.light_entry("Hall", "Strip", {"on": True}, 2, kind=TUNABLE, kelvin=[6500, 2700]),
        ]
        for entry in bad_entries:
            with self.assertRaises(protocol.ProtocolError) as caught:
                protocol.parse(protocol.encode(protocol.build_state_set([entry])), protocol.HUB_MESSAGE_TYPES)
            self.assertEqual(caught.exception.code, protocol.ERROR_BAD_DATA, entry)

    def test_capabilities_in_hello_and_welcome(self):
        hello = protocol.build_device_hello(
            "dev-1", "0.2.0", "host", [], capabilities=protocol.capabilities()
        )
        self.assertEqual(
            protocol.lights_capability(protocol.parse(protocol.encode(hello))["data"]), protocol.LIGHTS_FLASH
        )
        plain = protocol.build_device_hello("dev-1", "0.2.0", "host", [])
        self.assertNotIn("capabilities", plain["data"])
        self.assertEqual(protocol.lights_capability(plain["data"]), 1)
        welcome = protocol.build_hub_welcome("dev-1", 15, [], {"lights": 2, "future": True})
        self.assertEqual(protocol.lights_capability(protocol.validate(welcome)["data"]), 2)
        for bad in ([], {"lights": 0}, {"lights": "2"}):
            message = protocol.build_hub_welcome("dev-1", 15, [], bad)
            with self.assertRaises(protocol.ProtocolError):
                protocol.parse(json.dumps(message))

    def test_state_for_an_on_off_peer_is_on_only(self):
        state = {"on": True, "brightness": 20, "rgb": [1, 2, 3]}
        self.assertEqual(protocol.state_for(state, 1), {"on": True})
        self.assertEqual(protocol.state_for(state, 2), state)
        self.assertEqual(protocol.state_for(state, 3), state)

    def test_light_entry_fields(self):
        entry = protocol.light_entry("A", "B", {"on": True}, 1, kind=TUNABLE, kelvin=(2000, 5000))
        self.assertEqual(entry["kelvin"], [2000, 5000])
        self.assertEqual(entry["kind"], TUNABLE)
        self.assertNotIn("transition_ms", entry)
        self.assertEqual(
            protocol.light_state(True, 5, None, (1, 2, 3)), {"on": True, "brightness": 5, "rgb": [1, 2, 3]}
        )


ADAPTIVE_SET = protocol.STATE_SET + ".adaptive"
ADAPTIVE_REPORT = protocol.STATE_REPORT + ".adaptive"


class AdaptiveFieldsTest(unittest.TestCase):
    """Lights capability 3: hold, stop, cause and manual (docs/protocol.md, "Adaptive lighting")."""

    def test_adaptive_samples_parse_in_their_direction(self):
        message = protocol.parse(load_sample(ADAPTIVE_SET), protocol.HUB_MESSAGE_TYPES)
        self.assertEqual(message["type"], protocol.STATE_SET)
        held, stop, asked = message["data"]["lights"]
        self.assertTrue(held["hold"])
        self.assertEqual(held["cause"], protocol.CAUSE_ADAPTIVE)
        self.assertTrue(stop["stop"])
        self.assertEqual(asked["cause"], protocol.CAUSE_HA)
        report = protocol.parse(load_sample(ADAPTIVE_REPORT), protocol.DEVICE_MESSAGE_TYPES)
        causes = [entry["cause"] for entry in report["data"]["lights"]]
        self.assertEqual(causes, [protocol.CAUSE_ADAPTIVE, protocol.CAUSE_WEB, protocol.CAUSE_BUTTON])
        self.assertEqual(report["data"]["lights"][1]["manual"], [protocol.MANUAL_BRIGHTNESS])

    def test_adaptive_samples_match_the_builders(self):
        for name in (ADAPTIVE_SET, ADAPTIVE_REPORT):
            sample = load_sample_json(name)
            rebuilt = []
            for entry in sample["data"]["lights"]:
                state = entry["state"]
                rebuilt.append(
                    protocol.light_entry(
                        entry["room"],
                        entry["light"],
                        protocol.light_state(
                            state["on"], state.get("brightness"), state.get("color_temp_kelvin"), state.get("rgb")
                        ),
                        entry["version"],
                        changed=entry.get("changed", False),
                        transition_ms=entry.get("transition_ms"),
                        hold=entry.get("hold", False),
                        stop=entry.get("stop", False),
                        cause=entry.get("cause"),
                        manual=entry.get("manual"),
                    )
                )
            build = protocol.build_state_set if name == ADAPTIVE_SET else protocol.build_state_report
            self.assertEqual(build(rebuilt), sample)

    def test_capability_3_is_adaptive_and_rich(self):
        self.assertTrue(protocol.adaptive_capable(4))
        self.assertTrue(protocol.adaptive_capable(3))
        self.assertFalse(protocol.adaptive_capable(2))
        self.assertFalse(protocol.adaptive_capable(1))
        self.assertEqual(protocol.state_for({"on": False, "brightness": 9}, 3), {"on": False, "brightness": 9})

    def test_the_fields_are_left_out_when_not_set(self):
        entry = protocol.light_entry("A", "B", {"on": True}, 1)
        for name in ("hold", "stop", "cause", "manual"):
            self.assertNotIn(name, entry)
        entry = protocol.light_entry("A", "B", {"on": True}, 1, manual=[])
        self.assertNotIn("manual", entry)

    def test_bad_adaptive_fields_are_refused(self):
        def entry(**fields):
            result = protocol.light_entry("A", "B", {"on": True, "brightness": 3}, 2)
            result.update(fields)
            return result

        bad = (
            entry(hold=1),
            entry(stop="yes"),
            entry(hold=True, stop=True),
            entry(cause=5),
            entry(cause=""),
            entry(cause="x" * (protocol.MAX_CAUSE_LENGTH + 1)),
            entry(manual="brightness"),
            entry(manual=["brightness", "volume"]),
            entry(manual=["brightness", "color", "brightness"]),
        )
        for item in bad:
            for build, allowed in (
                (protocol.build_state_set, protocol.HUB_MESSAGE_TYPES),
                (protocol.build_state_report, protocol.DEVICE_MESSAGE_TYPES),
            ):
                with self.assertRaises(protocol.ProtocolError) as caught:
                    protocol.parse(protocol.encode(build([item])), allowed)
                self.assertEqual(caught.exception.code, protocol.ERROR_BAD_DATA, item)

    def test_an_unknown_cause_is_kept(self):
        message = protocol.build_state_set([protocol.light_entry("A", "B", {"on": True}, 2, cause="alarm")])
        parsed = protocol.parse(protocol.encode(message), protocol.HUB_MESSAGE_TYPES)
        self.assertEqual(parsed["data"]["lights"][0]["cause"], "alarm")

    def test_manual_parts_name_brightness_and_colour(self):
        self.assertEqual(protocol.manual_parts({}), [])
        self.assertEqual(protocol.manual_parts({"brightness": 3}), [protocol.MANUAL_BRIGHTNESS])
        self.assertEqual(protocol.manual_parts({"color_temp_kelvin": 3000}), [protocol.MANUAL_COLOR])
        self.assertEqual(
            protocol.manual_parts({"rgb": [1, 2, 3], "brightness": 1}),
            [protocol.MANUAL_BRIGHTNESS, protocol.MANUAL_COLOR],
        )

    def test_entry_query_carries_the_adaptive_fields(self):
        held = protocol.light_entry(
            "A", "B", {"on": False, "brightness": 9}, 4, transition_ms=60000, hold=True, cause=protocol.CAUSE_ADAPTIVE
        )
        self.assertEqual(
            protocol.entry_query(held),
            {
                "room": "A",
                "light": "B",
                "action": protocol.ACTION_OFF,
                "version": "4",
                "brightness": "9",
                "transition_ms": "60000",
                "hold": "1",
                "cause": protocol.CAUSE_ADAPTIVE,
            },
        )
        stop = protocol.entry_query(protocol.light_entry("A", "B", {"on": True}, 5, stop=True))
        self.assertEqual(stop["stop"], "1")
        self.assertNotIn("hold", stop)
        self.assertNotIn("cause", stop)


FLASH_SET = protocol.STATE_SET + ".flash"


class FlashFieldTest(unittest.TestCase):
    """Lights capability 4: a state.set entry's flash_ms (docs/protocol.md, "Flash")."""

    def test_the_flash_sample_parses_and_matches_the_builder(self):
        message = protocol.parse(load_sample(FLASH_SET), protocol.HUB_MESSAGE_TYPES)
        self.assertEqual([entry["flash_ms"] for entry in message["data"]["lights"]], [2000, 10000])
        rebuilt = [
            protocol.light_entry(
                entry["room"],
                entry["light"],
                protocol.light_state(entry["state"]["on"], entry["state"].get("brightness")),
                entry["version"],
                cause=entry["cause"],
                flash_ms=entry["flash_ms"],
            )
            for entry in load_sample_json(FLASH_SET)["data"]["lights"]
        ]
        self.assertEqual(protocol.build_state_set(rebuilt), load_sample_json(FLASH_SET))

    def test_capability_4_flashes_and_includes_3(self):
        self.assertEqual(protocol.capabilities(), {"lights": protocol.LIGHTS_FLASH})
        self.assertTrue(protocol.flash_capable(4))
        self.assertFalse(protocol.flash_capable(3))
        self.assertTrue(protocol.adaptive_capable(protocol.LIGHTS_FLASH))

    def test_flash_ms_is_left_out_when_not_set(self):
        self.assertNotIn("flash_ms", protocol.light_entry("A", "B", {"on": True}, 1))
        self.assertNotIn("flash_ms", protocol.entry_query(protocol.light_entry("A", "B", {"on": True}, 1)))

    def test_flash_ms_must_be_1_to_60000(self):
        self.assertEqual(protocol.check_flash(protocol.MAX_FLASH_MS), protocol.MAX_FLASH_MS)
        self.assertEqual(protocol.check_flash(1), 1)
        for bad in (0, -5, protocol.MAX_FLASH_MS + 1, True, 2.5, "2000", None):
            with self.assertRaises(protocol.ProtocolError) as caught:
                protocol.check_flash(bad)
            self.assertIn("flash_ms", caught.exception.reason)
            entry = protocol.light_entry("A", "B", {"on": True}, 2)
            entry["flash_ms"] = bad
            with self.assertRaises(protocol.ProtocolError) as caught:
                protocol.parse(protocol.encode(protocol.build_state_set([entry])), protocol.HUB_MESSAGE_TYPES)
            self.assertEqual(caught.exception.code, protocol.ERROR_BAD_DATA)

    def test_entry_query_carries_flash_ms(self):
        entry = protocol.light_entry("A", "B", {"on": True, "brightness": 9}, 4, cause=protocol.CAUSE_HA, flash_ms=2000)
        query = protocol.entry_query(entry)
        self.assertEqual((query["flash_ms"], query["version"], query["cause"]), ("2000", "4", protocol.CAUSE_HA))


if __name__ == "__main__":
    unittest.main()
