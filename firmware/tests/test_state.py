"""The light store: hub versions, local changes, the hub's authoritative list, persistence."""

import unittest

from firmware import protocol
from firmware.compat import join_path
from firmware.light_output import LightOutputs
from firmware.state import LightStore
from firmware.tests.support import ClockedHal, make_folder, remove_folder

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
        self.assertEqual(entry, protocol.light_entry("Hall", "Lamp", {"on": True}, 5, changed=True))
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
            self.store.entry("Hall", "Lamp"), protocol.light_entry("Hall", "Lamp", {"on": True}, 5, True)
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


if __name__ == "__main__":
    unittest.main()
