"""Device configuration: validation with clear errors, defaults, atomic save, corrupt files."""

import json
import unittest

from .. import config
from ..compat import join_path
from .support import make_folder, remove_folder


def valid(**changes):
    raw = {
        "device_id": "dev-1",
        "secret": "s3cret-value",
        "hubs": ["http://127.0.0.1:8000/", "https://hub.example.com"],
        "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    }
    raw.update(changes)
    return raw


class ValidateTest(unittest.TestCase):
    def error_of(self, raw):
        with self.assertRaises(config.ConfigError) as caught:
            config.validate(raw)
        return str(caught.exception)

    def test_defaults(self):
        result = config.validate(valid())
        self.assertEqual(result["name"], "dev-1")
        self.assertEqual(result["board"], "host")
        self.assertEqual(result["transport"], config.TRANSPORT_WEBSOCKET)
        self.assertEqual(result["poll_interval"], config.DEFAULT_POLL_INTERVAL)
        self.assertEqual(result["web"], {"host": "0.0.0.0", "port": 80})
        self.assertEqual(result["hubs"], ["http://127.0.0.1:8000", "https://hub.example.com"])
        self.assertIsNone(result["lan_url"])

    def test_clear_errors(self):
        cases = [
            ([], "JSON object"),
            (valid(device_id=""), "device_id"),
            (valid(secret=None), "secret"),
            (valid(hubs="http://x"), "hubs"),
            (valid(hubs=["ftp://x"]), "http"),
            (valid(hubs=["http://"]), "no host"),
            (valid(board="arduino"), "board"),
            (valid(transport="carrier-pigeon"), "transport"),
            (valid(poll_interval=0), "poll_interval"),
            (valid(poll_interval=True), "poll_interval"),
            (valid(lights=[{"room": "R"}]), "light"),
            (valid(lights=[{"room": "R", "light": "L", "pin": "2"}]), "pin"),
            (valid(lights=[{"room": "R", "light": "L"}, {"room": "R", "light": "L"}]), "twice"),
            (valid(web={"port": 70000}), "web.port"),
            (valid(web=[]), "web"),
            (valid(wifi="home"), "wifi"),
            (valid(board="esp32"), "wifi is required"),
        ]
        for raw, expected in cases:
            self.assertIn(expected, self.error_of(raw), raw)

    def test_secret_never_in_errors(self):
        message = self.error_of(valid(hubs=["gopher://x"], secret="do-not-print-me"))
        self.assertNotIn("do-not-print-me", message)

    def test_wifi_on_a_board(self):
        result = config.validate(valid(board="esp32", wifi={"ssid": "home", "password": "pw"}))
        self.assertEqual(result["wifi"], {"ssid": "home", "password": "pw", "power_save": False})

    def test_power_saving_is_off_unless_asked(self):
        wifi = {"ssid": "home", "password": "pw", "power_save": True}
        self.assertTrue(config.validate(valid(board="esp32", wifi=wifi))["wifi"]["power_save"])
        self.assertIn("power_save", self.error_of(valid(wifi={"ssid": "h", "power_save": "yes"})))

    def test_light_kinds_and_their_pins(self):
        lights = [
            {"room": "R", "light": "On", "pin": 2},
            {"room": "R", "light": "Dim", "kind": "dimmable", "pin": 4},
            {"room": "R", "light": "White", "kind": "tunable_white", "pins": {"cold": 5, "warm": 6}},
            {
                "room": "R",
                "light": "Narrow",
                "kind": "tunable_white",
                "pins": {"cold": 7, "warm": 8},
                "kelvin": [2200, 4000],
            },
            {"room": "R", "light": "Colour", "kind": "rgb", "pins": {"r": 12, "g": 13, "b": 14}},
        ]
        result = config.validate(valid(lights=lights))["lights"]
        self.assertEqual(
            [light["kind"] for light in result],
            ["onoff", "dimmable", "tunable_white", "tunable_white", "rgb"],
        )
        self.assertEqual(result[2]["kelvin"], [2700, 6500])
        self.assertEqual(result[3]["kelvin"], [2200, 4000])
        self.assertEqual(result[4]["pins"], {"r": 12, "g": 13, "b": 14})
        self.assertEqual(result[1]["pin"], 4)
        self.assertNotIn("kelvin", result[4])

    def test_bad_light_kinds_and_pins_say_what_to_fix(self):
        def light(**fields):
            return valid(lights=[dict({"room": "R", "light": "L"}, **fields)])

        cases = [
            (light(kind="disco"), "kind must be one of onoff, dimmable, tunable_white, rgb"),
            (light(kind="rgb", pin=4), '"pins"'),
            (light(kind="rgb", pins={"r": 1, "g": 2}), "r, g, b"),
            (light(kind="rgb", pins=[1, 2, 3]), "r, g, b"),
            (light(kind="tunable_white", pins={"cold": 1, "warm": 70}), "pins.warm"),
            (light(kind="tunable_white", pins={"cold": 1, "warm": 2.5}), "pins.warm"),
            (light(kind="tunable_white", pins={"cold": 1, "warm": 2}, kelvin=[6500, 2700]), "kelvin"),
            (light(kind="tunable_white", pins={"cold": 1, "warm": 2}, kelvin=[500, 2700]), "kelvin"),
            (light(kind="tunable_white", pins={"cold": 1, "warm": 2}, kelvin="warm"), "kelvin"),
            (light(kind="dimmable", pin=4, kelvin=[2700, 6500]), "tunable_white lights only"),
            (light(kind="dimmable", pins={"r": 1}), '"pin"'),
            (light(kind="dimmable", pin=64), "pin"),
            (
                valid(
                    lights=[
                        {"room": "R", "light": "A", "pin": 4},
                        {"room": "R", "light": "B", "kind": "rgb", "pins": {"r": 4, "g": 5, "b": 6}},
                    ]
                ),
                "pin 4 is used twice",
            ),
        ]
        for raw, expected in cases:
            message = self.error_of(raw)
            self.assertIn(expected, message, raw)
            if "twice" not in expected:
                self.assertIn("light R/L", message)  # which light

    def test_buttons_and_watchdog(self):
        result = config.validate(valid(lights=[{"room": "R", "light": "L", "pin": 2, "button": 39}]))
        self.assertEqual(result["lights"][0]["button"], 39)
        self.assertEqual(result["watchdog_timeout"], config.DEFAULT_WATCHDOG_TIMEOUT)
        self.assertIn("button", self.error_of(valid(lights=[{"room": "R", "light": "L", "button": 99}])))
        self.assertIn("watchdog_timeout", self.error_of(valid(watchdog_timeout=-1)))


class FileTest(unittest.TestCase):
    def setUp(self):
        self.folder = make_folder()

    def tearDown(self):
        remove_folder(self.folder)

    def test_save_then_load(self):
        config.save(self.folder, valid())
        self.assertEqual(config.load(self.folder)["device_id"], "dev-1")
        self.assertFalse(config.CONFIG_FILE + ".tmp" in __import__("os").listdir(self.folder))

    def test_missing_file(self):
        with self.assertRaises(config.ConfigError) as caught:
            config.load(self.folder)
        self.assertIn("does not exist", str(caught.exception))

    def test_corrupt_file_is_reported_not_crashing(self):
        with open(join_path(self.folder, config.CONFIG_FILE), "w") as handle:
            handle.write('{"device_id": "dev-1", ')
        with self.assertRaises(config.ConfigError) as caught:
            config.load(self.folder)
        self.assertIn("corrupt", str(caught.exception))

    def write(self, name, text):
        with open(join_path(self.folder, name), "w") as handle:
            handle.write(text)

    def test_save_keeps_a_last_good_copy(self):
        config.save(self.folder, valid())
        names = __import__("os").listdir(self.folder)
        self.assertIn(config.BACKUP_FILE, names)
        self.assertTrue(config.exists(self.folder))

    def test_half_written_config_falls_back_to_the_last_good_copy(self):
        config.save(self.folder, valid(name="good"))
        self.write(config.CONFIG_FILE, '{"device_id": "dev-1", "secr')  # power cut mid-write
        notes = []
        loaded = config.load(self.folder, notes)
        self.assertEqual(loaded["name"], "good")
        self.assertIn("corrupt", notes[0])
        self.assertEqual(config.load(self.folder)["name"], "good")  # config.json repaired

    def test_invalid_config_falls_back_too_and_both_bad_is_an_error(self):
        config.save(self.folder, valid(name="good"))
        self.write(config.CONFIG_FILE, json.dumps(valid(hubs="nope")))
        self.assertEqual(config.load(self.folder)["name"], "good")
        self.write(config.CONFIG_FILE, "{")
        self.write(config.BACKUP_FILE, "{")
        with self.assertRaises(config.ConfigError):
            config.load(self.folder)

    def test_missing_config_with_a_copy_recovers(self):
        config.save(self.folder, valid(name="good"))
        __import__("os").remove(join_path(self.folder, config.CONFIG_FILE))
        self.assertEqual(config.load(self.folder)["name"], "good")

    def test_no_config_at_all(self):
        self.assertFalse(config.exists(self.folder))

    def test_save_refuses_an_invalid_config(self):
        with self.assertRaises(config.ConfigError):
            config.save(self.folder, valid(hubs=None))
        with open(join_path(self.folder, "probe"), "w") as handle:
            handle.write(json.dumps({}))


if __name__ == "__main__":
    unittest.main()
