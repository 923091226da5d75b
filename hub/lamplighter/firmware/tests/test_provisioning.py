"""Provisioning rules: the setup form, pairing codes, the first config, no default passwords."""

import unittest

from .. import protocol, provisioning


def form(**changes):
    fields = {
        "ssid": "home",
        "password": "wifi-pass",
        "hub": "http://192.168.1.10:8000/",
        "code": "abcd-efgh",
    }
    fields.update(changes)
    return fields


class SetupFormTest(unittest.TestCase):
    def error_of(self, fields, board="esp32"):
        with self.assertRaises(provisioning.SetupError) as caught:
            provisioning.check_setup_form(fields, board)
        return str(caught.exception)

    def test_valid_form(self):
        setup = provisioning.check_setup_form(form(name=" hall "), "esp32")
        self.assertEqual(setup["hub"], "http://192.168.1.10:8000")
        self.assertEqual(setup["code"], "ABCDEFGH")
        self.assertEqual(setup["name"], "hall")
        self.assertEqual(setup["ca"], "")

    def test_clear_errors(self):
        self.assertIn("Wi-Fi network", self.error_of(form(ssid="")))
        self.assertIn("hub address", self.error_of(form(hub="192.168.1.10")))
        self.assertIn("code", self.error_of(form(code="short")))
        self.assertIn("code", self.error_of(form(code="ABCDEFG0")))  # 0 is never used
        self.assertIn("password", self.error_of(form(password="x" * 64)))
        self.assertIn("CA", self.error_of(form(ca="not a certificate")))
        self.assertIn("CA certificate", self.error_of(form(hub="https://hub.example.com")))

    def test_host_board_needs_no_wifi(self):
        setup = provisioning.check_setup_form(form(ssid=""), "host")
        self.assertEqual(setup["ssid"], "")

    def test_wifi_password_never_in_errors(self):
        self.assertNotIn("wifi-pass", self.error_of(form(hub="nope")))


class PairingTest(unittest.TestCase):
    def test_codes_are_normalized(self):
        self.assertEqual(protocol.normalize_pairing_code("abcd efgh"), "ABCDEFGH")
        with self.assertRaises(protocol.ProtocolError):
            protocol.normalize_pairing_code(12345678)

    def test_request_and_config_from_the_answer(self):
        setup = provisioning.check_setup_form(form(), "esp32")
        request = provisioning.pair_request(setup, "esp32")
        self.assertEqual(protocol.check_pair_request(request)["code"], "ABCDEFGH")
        answer = {"device_id": "dev-abc", "secret": "s" * 43, "name": "hall"}
        config = provisioning.config_from_pairing(setup, answer, "esp32")
        self.assertEqual(config["device_id"], "dev-abc")
        self.assertEqual(config["hubs"], ["http://192.168.1.10:8000"])
        self.assertEqual(config["wifi"], {"ssid": "home", "password": "wifi-pass", "power_save": False})

    def test_bad_answers_are_refused(self):
        setup = provisioning.check_setup_form(form(), "esp32")
        for answer in ({}, {"device_id": "dev-abc", "secret": "", "name": "x"}, []):
            with self.assertRaises(protocol.ProtocolError):
                provisioning.config_from_pairing(setup, answer, "esp32")

    def test_access_point_password_is_fresh_and_long_enough_for_wpa2(self):
        first = provisioning.access_point_credentials()
        second = provisioning.access_point_credentials()
        self.assertNotEqual(first[1], second[1])
        self.assertTrue(len(first[1]) >= 8)
        self.assertTrue(first[0].startswith(provisioning.AP_SSID_PREFIX))


if __name__ == "__main__":
    unittest.main()
