"""The light store: hub versions, local changes, the hub's authoritative list, persistence."""

import unittest

from .. import protocol
from ..compat import join_path
from ..light_output import LightOutputs, duties, target_vector
from ..state import LightStore
from .support import ClockedHal, make_folder, remove_folder

LIGHTS = [{"room": "Kitchen", "light": "Ceiling", "pin": 2}, {"room": "Hall", "light": "Lamp", "pin": 3}]


def hub_entry(room, light, on, version):
    return protocol.light_entry(room, light, protocol.light_state(on), version)


class LightStoreTest(unittest.TestCase):
    def setUp(self):
        self.folder = make_folder()
        self.path = join_path(self.folder, "state.json")
        self.hal = ClockedHal(self.folder)
        self.pins = self.hal.pins
        self.store = self.new_store()

    def tearDown(self):
        remove_folder(self.folder)

    def new_store(self, lights=LIGHTS):
        return LightStore(self.path, lights, LightOutputs(self.hal))

    def test_initial_lights_are_off_at_version_zero(self):
        self.assertEqual(
            self.store.entries(),
            [hub_entry("Kitchen", "Ceiling", False, 0), hub_entry("Hall", "Lamp", False, 0)],
        )

    def test_hub_entries_apply_only_when_newer(self):
        applied, unknown = self.store.apply_hub([hub_entry("Kitchen", "Ceiling", True, 3)])
        self.assertEqual((applied, unknown), (["Kitchen/Ceiling"], []))
        self.assertTrue(self.pins[2])
        applied, _ = self.store.apply_hub([hub_entry("Kitchen", "Ceiling", False, 3)])
        self.assertEqual(applied, [])
        applied, _ = self.store.apply_hub([hub_entry("Kitchen", "Ceiling", False, 2)])
        self.assertEqual(applied, [])
        self.assertEqual(self.store.get("Kitchen", "Ceiling")["state"], {"on": True})

    def test_unknown_lights_are_returned_not_added(self):
        applied, unknown = self.store.apply_hub([hub_entry("Garage", "Door", True, 1)])
        self.assertEqual((applied, unknown), ([], ["Garage/Door"]))
        self.assertIsNone(self.store.get("Garage", "Door"))

    def test_local_action_marks_changed_and_keeps_version(self):
        self.store.apply_hub([hub_entry("Hall", "Lamp", False, 5)])
        entry = self.store.local_action("Hall", "Lamp", protocol.ACTION_TOGGLE)
        self.assertEqual(
            entry, protocol.light_entry("Hall", "Lamp", {"on": True}, 5, changed=True, cause=protocol.CAUSE_WEB)
        )
        self.assertTrue(self.pins[3])
        self.assertIsNone(self.store.local_action("Nowhere", "Lamp", protocol.ACTION_ON))

    def test_newer_hub_version_clears_changed(self):
        self.store.local_action("Hall", "Lamp", protocol.ACTION_ON)
        self.store.apply_hub([hub_entry("Hall", "Lamp", True, 1)])
        self.assertFalse(self.store.get("Hall", "Lamp")["changed"])

    def test_bad_action_raises_protocol_error(self):
        with self.assertRaises(protocol.ProtocolError):
            self.store.local_action("Hall", "Lamp", "blink")

    def test_state_survives_a_reboot(self):
        self.store.apply_hub([hub_entry("Kitchen", "Ceiling", True, 4)])
        self.store.local_action("Hall", "Lamp", protocol.ACTION_ON)
        self.pins.clear()
        rebooted = self.new_store()
        self.assertTrue(rebooted.load())
        rebooted.restore_outputs()
        self.assertEqual(rebooted.entries(), self.store.entries())
        self.assertEqual(self.pins, {2: True, 3: True})

    def test_welcome_replaces_the_set_keeping_pins(self):
        self.store.local_action("Kitchen", "Ceiling", protocol.ACTION_ON)
        applied = self.store.replace(
            [hub_entry("Kitchen", "Ceiling", False, 2), hub_entry("Office", "Desk", True, 1)]
        )
        self.assertEqual(applied, ["Kitchen/Ceiling", "Office/Desk"])
        self.assertEqual(self.store.get("Kitchen", "Ceiling")["pin"], 2)
        self.assertIsNone(self.store.get("Office", "Desk")["pin"])
        self.assertIsNone(self.store.get("Hall", "Lamp"))
        self.assertEqual(self.pins[3], False)  # dropped light switched off
        self.assertEqual(self.new_store().load(), True)

    def test_welcome_keeps_local_state_when_not_newer(self):
        self.store.apply_hub([hub_entry("Hall", "Lamp", False, 5)])
        self.store.local_action("Hall", "Lamp", protocol.ACTION_ON)
        applied = self.store.replace([hub_entry("Hall", "Lamp", False, 5)])
        self.assertEqual(applied, [])
        self.assertEqual(
            self.store.entry("Hall", "Lamp"),
            protocol.light_entry("Hall", "Lamp", {"on": True}, 5, True, cause=protocol.CAUSE_WEB),
        )

    def test_corrupt_file_is_reported_and_the_initial_set_kept(self):
        with open(self.path, "w") as handle:
            handle.write("{broken")
        store = self.new_store()
        self.assertFalse(store.load())
        self.assertIn("corrupt", store.load_error)
        self.assertEqual(len(store.entries()), 2)

    def test_invalid_content_is_reported(self):
        with open(self.path, "w") as handle:
            handle.write('{"lights": [{"room": "", "light": "x"}]}')
        store = self.new_store()
        self.assertFalse(store.load())
        self.assertIn("invalid", store.load_error)

    def test_missing_file_is_not_an_error(self):
        self.assertFalse(self.store.load())
        self.assertIsNone(self.store.load_error)

    def test_config_pins_win_over_saved_pins(self):
        self.store.save()
        store = self.new_store([{"room": "Kitchen", "light": "Ceiling", "pin": 9}])
        store.load()
        self.assertEqual(store.get("Kitchen", "Ceiling")["pin"], 9)
        self.assertEqual(store.get("Hall", "Lamp")["pin"], 3)

    def test_summary(self):
        self.assertEqual(
            self.store.summary()[0],
            {"room": "Kitchen", "light": "Ceiling", "kind": "onoff", "on": False, "version": 0},
        )


RICH_LIGHTS = [
    {"room": "Hall", "light": "Strip", "kind": "dimmable", "pin": 5},
    {
        "room": "Bed",
        "light": "Reading",
        "kind": "tunable_white",
        "pins": {"cold": 6, "warm": 7},
        "kelvin": [2700, 6500],
    },
    {"room": "Den", "light": "Shelf", "kind": "rgb", "pins": {"r": 8, "g": 9, "b": 10}},
]
STRIP = ("Hall", "Strip")
READING = ("Bed", "Reading")
SHELF = ("Den", "Shelf")


def rich_entry(key, state, version, transition_ms=None):
    return protocol.light_entry(key[0], key[1], state, version, transition_ms=transition_ms)


class RichLightStoreTest(unittest.TestCase):
    def setUp(self):
        self.folder = make_folder()
        self.path = join_path(self.folder, "state.json")
        self.hal = ClockedHal(self.folder)
        self.store = self.new_store()

    def tearDown(self):
        remove_folder(self.folder)

    def new_store(self):
        return LightStore(self.path, RICH_LIGHTS, LightOutputs(self.hal))

    def state(self, key):
        return self.store.get(*key)["state"]

    def test_lights_start_from_their_kinds_full_state(self):
        self.assertEqual(self.state(STRIP), {"on": False, "brightness": 255})
        self.assertEqual(self.state(READING), {"on": False, "brightness": 255, "color_temp_kelvin": 4000})
        self.assertEqual(self.state(SHELF), {"on": False, "brightness": 255, "rgb": [255, 255, 255]})

    def test_partial_hub_states_merge_and_drive_the_channels(self):
        self.store.apply_hub([rich_entry(SHELF, {"on": True, "brightness": 255, "rgb": [255, 0, 0]}, 1)])
        self.assertEqual([self.hal.duty(pin) for pin in (8, 9, 10)], [65535, 0, 0])
        self.store.apply_hub([rich_entry(SHELF, {"on": True, "brightness": 40}, 2)])
        self.assertEqual(self.state(SHELF), {"on": True, "brightness": 40, "rgb": [255, 0, 0]})
        self.assertEqual(self.hal.duty(9), 0)
        self.assertTrue(0 < self.hal.duty(8) < 65535)

    def test_plain_on_off_from_an_older_hub_keeps_brightness_and_colour(self):
        state = {"on": True, "brightness": 90, "color_temp_kelvin": 3000}
        self.store.apply_hub([rich_entry(READING, state, 1)])
        self.store.apply_hub([rich_entry(READING, {"on": False}, 2)])
        self.assertEqual(self.hal.duty(6) + self.hal.duty(7), 0)
        self.store.apply_hub([rich_entry(READING, {"on": True}, 3)])
        self.assertEqual(self.state(READING), state)
        self.assertTrue(self.hal.duty(7) > self.hal.duty(6) > 0)  # 3000 K: mostly warm

    def test_a_state_the_light_cannot_take_is_refused_and_nothing_changes(self):
        self.store.apply_hub([rich_entry(STRIP, {"on": True, "brightness": 100}, 1)])
        duty = self.hal.duty(5)
        applied, unknown = self.store.apply_hub(
            [
                rich_entry(STRIP, {"on": True, "rgb": [1, 2, 3]}, 2),
                rich_entry(READING, {"on": True, "color_temp_kelvin": 9000}, 2),
                rich_entry(SHELF, {"on": True, "brightness": 7}, 2),
            ]
        )
        self.assertEqual((applied, unknown), (["Den/Shelf"], []))
        self.assertEqual(len(self.store.rejected), 2)
        self.assertIn("Hall/Strip", self.store.rejected[0])
        self.assertIn("rgb", self.store.rejected[0])
        self.assertEqual(self.store.get(*STRIP)["version"], 1)
        self.assertEqual(self.state(STRIP), {"on": True, "brightness": 100})
        self.assertEqual(self.hal.duty(5), duty)
        self.assertEqual(self.store.get(*READING)["version"], 0)

    def test_a_transition_fades_the_channels(self):
        self.store.apply_hub([rich_entry(STRIP, {"on": True, "brightness": 255}, 1, transition_ms=2000)])
        self.assertEqual(self.hal.duty(5), 0)
        self.assertEqual(self.state(STRIP), {"on": True, "brightness": 255})  # the state is the target
        self.hal.now += 1000
        self.assertTrue(self.store.output.step())
        self.assertTrue(0 < self.hal.duty(5) < 65535)
        self.hal.now += 1000
        self.assertFalse(self.store.output.step())
        self.assertEqual(self.hal.duty(5), 65535)

    def test_local_action_with_fields(self):
        entry = self.store.local_action(*SHELF, protocol.ACTION_ON, {"rgb": [0, 0, 255], "brightness": 128})
        self.assertEqual(entry["state"], {"on": True, "brightness": 128, "rgb": [0, 0, 255]})
        self.assertTrue(entry["changed"])
        entry = self.store.local_action(*SHELF, protocol.ACTION_OFF)
        self.assertEqual(entry["state"], {"on": False, "brightness": 128, "rgb": [0, 0, 255]})
        for bad in ({"brightness": 300}, {"color_temp_kelvin": 3000}, {"rgb": [1, 2]}):
            with self.assertRaises(protocol.ProtocolError):
                self.store.local_action(*SHELF, protocol.ACTION_ON, bad)
        self.assertEqual(self.state(SHELF), {"on": False, "brightness": 128, "rgb": [0, 0, 255]})

    def test_brightness_and_colour_survive_a_reboot(self):
        self.store.local_action(*READING, protocol.ACTION_ON, {"brightness": 12, "color_temp_kelvin": 6000})
        self.hal.duties.clear()
        rebooted = self.new_store()
        self.assertTrue(rebooted.load())
        rebooted.restore_outputs()
        self.assertEqual(rebooted.entries(), self.store.entries())
        self.assertTrue(self.hal.duty(6) > self.hal.duty(7) > 0)

    def test_hello_entries_and_status_describe_the_kind(self):
        [strip, reading, shelf] = self.store.entries(described=True)
        self.assertEqual(strip["kind"], "dimmable")
        self.assertEqual(reading["kelvin"], [2700, 6500])
        self.assertNotIn("kelvin", shelf)
        self.assertNotIn("kind", self.store.entries()[0])
        summary = self.store.summary()
        self.assertEqual(
            summary[1],
            {
                "room": "Bed",
                "light": "Reading",
                "kind": "tunable_white",
                "on": False,
                "brightness": 255,
                "color_temp_kelvin": 4000,
                "version": 0,
                "kelvin": [2700, 6500],
            },
        )
        self.assertNotIn("rgb", summary[0])

    def test_welcome_adds_a_light_with_the_hubs_kind(self):
        entries = self.store.entries() + [
            protocol.light_entry("Porch", "Post", {"on": True, "brightness": 3}, 4, kind="dimmable")
        ]
        self.assertEqual(self.store.replace(entries), ["Porch/Post"])
        self.assertEqual(self.store.get("Porch", "Post")["state"], {"on": True, "brightness": 3})
        self.store.replace(self.store.entries()[:1])
        self.assertIsNone(self.store.get(*SHELF))
        self.assertEqual([self.hal.duty(pin) for pin in (8, 9, 10)], [0, 0, 0])


HELD_WHITE = {
    "room": "Bedroom",
    "light": "Reading",
    "kind": protocol.KIND_TUNABLE_WHITE,
    "pins": {"cold": 6, "warm": 7},
    "kelvin": [2000, 6500],
}
HELD = ("Bedroom", "Reading")
HELD_KEY = "Bedroom/Reading"


class RecordingHal(ClockedHal):
    """ClockedHal that keeps every PWM write, to see what the light showed on its way."""

    def __init__(self, flash_root):
        super().__init__(flash_root)
        self.writes = []

    def pwm_set(self, pin, duty):
        """Record the write, then set the duty."""
        self.writes.append((pin, duty))
        super().pwm_set(pin, duty)


def white(on, brightness, kelvin):
    return {"on": on, "brightness": brightness, "color_temp_kelvin": kelvin}


class HeldFadeTest(unittest.TestCase):
    """Lights capability 3 on the device: held targets, held fades, stop, cause, manual."""

    def setUp(self):
        self.folder = make_folder()
        self.path = join_path(self.folder, "state.json")
        self.hal = RecordingHal(self.folder)
        self.outputs = LightOutputs(self.hal)
        self.store = self.new_store()
        self.version = 1
        self.hub(white(False, 50, 2500))

    def tearDown(self):
        remove_folder(self.folder)

    def new_store(self):
        store = LightStore(self.path, [HELD_WHITE], self.outputs, self.hal.ticks_ms)
        store.load()
        return store

    def hub(self, state, **fields):
        self.version += 1
        entry = protocol.light_entry("Bedroom", "Reading", state, self.version, **fields)
        return self.store.apply_hub([entry])[0]

    def hold(self, brightness, kelvin, transition_ms=0, on=True):
        return self.hub(
            white(on, brightness, kelvin),
            hold=True,
            transition_ms=transition_ms,
            cause=protocol.CAUSE_ADAPTIVE,
        )

    def record(self):
        return self.store.get(*HELD)

    def shown(self):
        return [self.hal.duty(6), self.hal.duty(7)]

    def duties_of(self, state):
        return duties(HELD_WHITE["kind"], target_vector(HELD_WHITE["kind"], state), HELD_WHITE["kelvin"])

    def writes_since(self, mark):
        return [duty for _, duty in self.hal.writes[mark:]]

    def test_a_hold_never_switches_a_light_on(self):
        self.assertEqual(self.hold(180, 3200, on=True), [HELD_KEY])
        self.assertEqual(self.record()["state"], white(False, 180, 3200))
        self.assertEqual(self.shown(), [0, 0])
        entry = self.store.entry(*HELD)
        self.assertEqual(entry["version"], self.version)
        self.assertEqual(entry["cause"], protocol.CAUSE_ADAPTIVE)
        self.assertFalse(entry.get("changed", False))

    def test_a_hold_never_switches_a_light_off(self):
        self.hub(white(True, 100, 3000))
        self.hold(120, 3100, on=False)
        self.assertEqual(self.record()["state"], white(True, 120, 3100))
        self.assertEqual(self.shown(), self.duties_of(white(True, 120, 3100)))

    def test_switched_on_by_a_person_it_goes_straight_to_the_held_target(self):
        self.hold(180, 3200)
        mark = len(self.hal.writes)
        entry = self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, cause=protocol.CAUSE_BUTTON)
        self.assertEqual(entry["state"], white(True, 180, 3200))
        self.assertEqual(entry["cause"], protocol.CAUSE_BUTTON)
        self.assertNotIn("manual", entry)  # switching alone pauses nothing
        target = self.duties_of(white(True, 180, 3200))
        self.assertEqual(self.writes_since(mark), target)  # one write per channel: nothing in between
        self.hal.now += 5000
        self.outputs.step()
        self.assertEqual(self.writes_since(mark), target)

    def test_switched_on_by_the_hub_it_goes_straight_to_the_held_target(self):
        self.hold(180, 3200)
        mark = len(self.hal.writes)
        self.hub(white(True, 180, 3200))  # an ordinary on: the fields as held
        self.assertEqual(self.writes_since(mark), self.duties_of(white(True, 180, 3200)))
        self.assertEqual(self.store.entry(*HELD)["state"], white(True, 180, 3200))

    def test_switched_on_during_a_held_fade_it_shows_the_fade_s_point_then_goes_on(self):
        self.hold(250, 4500, transition_ms=100000)
        self.assertEqual(self.shown(), [0, 0])
        self.hal.now += 25000  # a quarter: brightness 50 -> 100, 2500 K -> 3000 K
        point = white(True, 100, 3000)
        self.assertEqual(self.store.point(HELD_KEY), white(False, 100, 3000))
        mark = len(self.hal.writes)
        entry = self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON)
        self.assertEqual(entry["state"], white(True, 250, 4500))  # the state is where the fade ends
        self.assertEqual(self.writes_since(mark), self.duties_of(point))
        self.hal.now += 75000
        self.outputs.step()
        self.assertEqual(self.shown(), self.duties_of(white(True, 250, 4500)))

    def test_turned_off_during_a_held_fade_it_stays_off(self):
        self.hub(white(True, 50, 2500))
        self.hold(250, 4500, transition_ms=10000)
        self.hal.now += 2000
        self.outputs.step()
        self.assertTrue(self.shown()[0] + self.shown()[1] > 0)
        self.store.local_action("Bedroom", "Reading", protocol.ACTION_OFF)
        self.hal.now += 4000
        self.outputs.step()
        self.assertEqual(self.shown(), [0, 0])
        # 6 s in: the held target goes on moving while the light is off.
        self.assertEqual(self.store.point(HELD_KEY), white(False, 170, 3700))
        for _ in range(6):
            self.hal.now += 2000
            self.outputs.step()
            self.assertEqual(self.shown(), [0, 0])
        self.assertEqual(self.record()["state"], white(False, 250, 4500))
        self.assertEqual(self.store.point(HELD_KEY), white(False, 250, 4500))
        self.assertEqual(self.store.fades, {})  # over: dropped

    def test_a_person_s_brightness_ends_the_held_fade_and_is_reported_as_manual(self):
        self.hub(white(True, 50, 2500))
        self.hold(250, 4500, transition_ms=10000)
        self.hal.now += 2000
        entry = self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, {"brightness": 40})
        self.assertEqual(self.store.fades, {})
        self.assertEqual(entry["state"], white(True, 40, 2900))  # the colour stays where the fade was
        self.assertEqual(entry["manual"], [protocol.MANUAL_BRIGHTNESS])
        self.assertEqual(entry["cause"], protocol.CAUSE_WEB)
        self.assertTrue(entry.get("changed", False))
        entry = self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, {"color_temp_kelvin": 3000})
        self.assertEqual(entry["manual"], [protocol.MANUAL_BRIGHTNESS, protocol.MANUAL_COLOR])
        self.hal.now += 20000
        self.outputs.step()
        self.assertEqual(self.shown(), self.duties_of(white(True, 40, 3000)))
        self.hub(white(True, 40, 3000))  # the hub took it: changed and manual clear
        entry = self.store.entry(*HELD)
        self.assertFalse(entry.get("changed", False))
        self.assertNotIn("manual", entry)

    def test_a_hold_takes_only_the_version_over_a_change_the_hub_has_not_seen(self):
        self.hub(white(True, 50, 2500))
        self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, {"brightness": 90})
        self.assertEqual(self.hold(250, 4500, transition_ms=10000), [HELD_KEY])
        entry = self.store.entry(*HELD)
        self.assertEqual((entry["version"], entry.get("changed", False)), (self.version, True))
        self.assertEqual(entry["state"], white(True, 90, 2500))
        self.assertEqual(entry["manual"], [protocol.MANUAL_BRIGHTNESS])
        self.assertEqual(self.store.fades, {})

    def test_stop_ends_the_held_fade_where_it_is(self):
        self.hub(white(True, 50, 2500))
        self.hold(250, 4500, transition_ms=10000)
        self.hal.now += 5000
        self.outputs.step()
        self.assertEqual(self.hub(white(True, 1, 2000), stop=True), [HELD_KEY])
        entry = self.store.entry(*HELD)
        self.assertEqual(entry["state"], white(True, 150, 3500))
        self.assertTrue(entry.get("changed", False))  # the hub adopts it as the desired state
        self.assertNotIn("cause", entry)  # the hub's (the default)
        self.assertEqual(self.shown(), self.duties_of(white(True, 150, 3500)))
        self.hal.now += 10000
        self.outputs.step()
        self.assertEqual(self.shown(), self.duties_of(white(True, 150, 3500)))

    def test_stop_of_a_light_that_is_off_keeps_the_held_point(self):
        self.hold(250, 4500, transition_ms=10000)
        self.hal.now += 5000
        self.hub(white(True, 1, 2000), stop=True)
        self.assertEqual(self.record()["state"], white(False, 150, 3500))
        self.assertEqual(self.shown(), [0, 0])

    def test_an_ordinary_switch_keeps_the_held_fade_and_a_new_colour_ends_it(self):
        self.hub(white(True, 50, 2500))
        self.hold(250, 4500, transition_ms=10000)
        self.hub(white(False, 250, 4500))  # off: same fields
        self.assertIn(HELD_KEY, self.store.fades)
        self.hub(white(True, 250, 3000), cause=protocol.CAUSE_HA)
        self.assertEqual(self.store.fades, {})
        entry = self.store.entry(*HELD)
        self.assertEqual(entry["cause"], protocol.CAUSE_HA)
        self.assertNotIn("manual", entry)  # the hub knows what it asked

    def test_a_flash_during_a_held_fade_ends_at_the_fade_s_point_and_the_fade_goes_on(self):
        self.hub(white(True, 50, 2500))
        self.hold(250, 4500, transition_ms=100000)
        record = self.record()
        entry = protocol.light_entry("Bedroom", "Reading", dict(record["state"]), record["version"], flash_ms=1000)
        self.assertEqual(self.store.apply_hub([entry])[0], [])
        self.store.flash_step()
        self.assertEqual(self.shown(), [0, 0])
        self.hal.now += 1000  # the flash is over; the fade is 1 % on: brightness 52, 2520 K
        self.assertIsNone(self.store.flash_step())
        self.assertEqual(self.shown(), self.duties_of(white(True, 52, 2520)))
        self.assertTrue(self.store.fades and self.outputs.fades)
        self.hal.now += 99000
        self.outputs.step()
        self.assertEqual(self.shown(), self.duties_of(white(True, 250, 4500)))

    def test_a_state_that_changes_nothing_keeps_the_cause(self):
        self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, cause=protocol.CAUSE_BUTTON)
        state = self.record()["state"]
        self.hub(state)  # the hub adopting the button's change sends it back
        self.assertEqual(self.store.entry(*HELD)["cause"], protocol.CAUSE_BUTTON)

    def test_cause_and_manual_survive_a_reboot_the_fade_does_not(self):
        self.store.local_action("Bedroom", "Reading", protocol.ACTION_ON, {"brightness": 9})
        self.hold(250, 4500, transition_ms=10000)
        store = self.new_store()
        entry = store.entry(*HELD)
        self.assertEqual(entry["cause"], protocol.CAUSE_WEB)
        self.assertEqual(entry["manual"], [protocol.MANUAL_BRIGHTNESS])
        self.assertEqual(store.fades, {})


FLASH_LIGHTS = [{"room": "Hall", "light": "Lamp", "pin": 3}] + RICH_LIGHTS
LAMP = ("Hall", "Lamp")


class FlashTest(unittest.TestCase):
    """Lights capability 4 on the device: a state.set entry's flash_ms blinks the output."""

    def setUp(self):
        self.folder = make_folder()
        self.hal = RecordingHal(self.folder)
        self.outputs = LightOutputs(self.hal)
        self.store = LightStore(join_path(self.folder, "state.json"), FLASH_LIGHTS, self.outputs, self.hal.ticks_ms)
        self.started = []
        self.store.on_flash = lambda key, flash_ms: self.started.append((key, flash_ms))

    def tearDown(self):
        remove_folder(self.folder)

    def flash(self, key, flash_ms, version=None):
        record = self.store.get(*key)
        entry = protocol.light_entry(
            key[0], key[1], dict(record["state"]), record["version"] if version is None else version, flash_ms=flash_ms
        )
        return self.store.apply_hub([entry])[0]

    def run_flash(self, pins, step_ms=50):
        """Step the flashes to their end on the test's clock; every output seen (a tuple of the pins' duties)."""
        seen = []
        wait = self.store.flash_step()
        while wait is not None:
            self.assertTrue(0 < wait <= 250)
            shown = tuple(self.hal.duty(pin) if pin != 3 else self.hal.pin_get(pin) for pin in pins)
            if not seen or seen[-1] != shown:
                seen.append(shown)
            self.hal.now += min(wait, step_ms)
            wait = self.store.flash_step()
        return seen

    def test_an_on_off_light_blinks_and_ends_as_it_was_with_nothing_to_report(self):
        self.store.apply_hub([hub_entry("Hall", "Lamp", True, 3)])
        self.hal.writes = []
        self.assertEqual(self.flash(LAMP, 2000), [])  # not a new state: nothing applied or reported
        self.assertEqual(self.started, [("Hall/Lamp", 2000)])
        seen = self.run_flash([3])
        # Off first (away from its state), on at 2 Hz: 8 phases in 2 s, then on as before.
        self.assertEqual(seen, [(False,), (True,)] * 4)
        self.assertTrue(self.hal.pin_get(3))
        self.assertEqual(self.store.get(*LAMP)["state"], {"on": True})
        self.assertEqual(self.store.get(*LAMP)["version"], 3)
        self.assertEqual(self.store.flashes, {})

    def test_a_dimmable_light_blinks_full_and_dark_then_shows_its_brightness(self):
        self.store.apply_hub([rich_entry(STRIP, {"on": True, "brightness": 100}, 5)])
        before = self.hal.duty(5)
        self.assertTrue(0 < before < 65535)
        self.flash(STRIP, 1000)
        self.assertEqual(self.run_flash([5]), [(0,), (65535,), (0,), (65535,)])
        self.assertEqual(self.hal.duty(5), before)
        self.assertEqual(self.store.get(*STRIP)["state"], {"on": True, "brightness": 100})

    def test_a_colour_light_that_is_off_lights_up_in_its_colour_and_ends_dark(self):
        self.store.apply_hub([rich_entry(SHELF, {"on": False, "brightness": 40, "rgb": [255, 0, 0]}, 2)])
        self.flash(SHELF, 1000)
        self.assertEqual(self.run_flash([8, 9, 10]), [(65535, 0, 0), (0, 0, 0)] * 2)
        self.assertEqual((self.hal.duty(8), self.hal.duty(9), self.hal.duty(10)), (0, 0, 0))
        self.assertEqual(self.store.get(*SHELF)["state"], {"on": False, "brightness": 40, "rgb": [255, 0, 0]})

    def test_a_newer_state_with_the_flash_is_applied_first(self):
        applied = self.flash(STRIP, 500, version=4)  # the device had missed version 4 (its state as it was)
        self.assertEqual(applied, ["Hall/Strip"])
        self.assertEqual(self.store.get(*STRIP)["version"], 4)
        self.assertEqual(self.run_flash([5]), [(65535,), (0,)])  # off: lit first, then dark as it is

    def test_a_new_state_during_a_flash_ends_it(self):
        self.store.apply_hub([rich_entry(STRIP, {"on": True, "brightness": 100}, 5)])
        self.flash(STRIP, 10000)
        self.store.flash_step()
        self.assertEqual(self.hal.duty(5), 0)
        self.store.apply_hub([rich_entry(STRIP, {"on": True, "brightness": 30}, 6)])
        self.assertEqual(self.store.flashes, {})
        self.assertIsNone(self.store.flash_step())
        self.assertEqual(self.hal.duty(5), duties(protocol.KIND_DIMMABLE, target_vector(protocol.KIND_DIMMABLE, {"on": True, "brightness": 30}))[0])

    def test_two_lights_flash_at_once_and_each_ends_as_it_was(self):
        self.store.apply_hub([hub_entry("Hall", "Lamp", False, 1), rich_entry(STRIP, {"on": True, "brightness": 200}, 1)])
        before = self.hal.duty(5)
        self.flash(LAMP, 750)
        self.hal.now += 100
        self.flash(STRIP, 500)
        seen = self.run_flash([3, 5], step_ms=25)
        self.assertEqual(sorted(set(shown[0] for shown in seen)), [False, True])
        self.assertEqual(sorted(set(shown[1] for shown in seen)), [0, before, 65535])
        self.assertEqual((self.hal.pin_get(3), self.hal.duty(5)), (False, before))

    def test_a_flash_of_an_unknown_light_or_without_outputs_does_nothing(self):
        entry = protocol.light_entry("Garage", "Door", {"on": True}, 1, flash_ms=1000)
        self.assertEqual(self.store.apply_hub([entry]), ([], ["Garage/Door"]))
        self.assertEqual(self.store.flashes, {})
        bare = LightStore(join_path(self.folder, "bare.json"), FLASH_LIGHTS)
        bare.apply_hub([protocol.light_entry("Hall", "Lamp", {"on": True}, 0, flash_ms=1000)])
        self.assertEqual(bare.flashes, {})


if __name__ == "__main__":
    unittest.main()
