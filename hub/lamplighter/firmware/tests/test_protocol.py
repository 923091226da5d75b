"""The protocol module: every builder, the parser, every error code, the golden samples."""

import json
import unittest

from .. import protocol
from .support import load_sample, load_sample_json


def entry(version=1, on=True, changed=False):
    return protocol.light_entry("Kitchen", "Ceiling", protocol.light_state(on), version, changed)


class GoldenSamplesTest(unittest.TestCase):
    def test_every_message_type_has_a_valid_sample(self):
        for message_type in protocol.DEVICE_MESSAGE_TYPES + protocol.HUB_MESSAGE_TYPES:
            message = protocol.parse(load_sample(message_type))
            self.assertEqual(message["type"], message_type)
            self.assertEqual(message["v"], protocol.PROTOCOL_VERSION)

    def test_device_samples_parse_in_the_device_direction_only(self):
        for message_type in protocol.DEVICE_MESSAGE_TYPES:
            protocol.parse(load_sample(message_type), protocol.DEVICE_MESSAGE_TYPES)
            with self.assertRaises(protocol.ProtocolError) as caught:
                protocol.parse(load_sample(message_type), protocol.HUB_MESSAGE_TYPES)
            self.assertEqual(caught.exception.code, protocol.ERROR_UNKNOWN_TYPE)

    def test_hub_samples_parse_in_the_hub_direction_only(self):
        for message_type in protocol.HUB_MESSAGE_TYPES:
            protocol.parse(load_sample(message_type), protocol.HUB_MESSAGE_TYPES)
            with self.assertRaises(protocol.ProtocolError):
                protocol.parse(load_sample(message_type), protocol.DEVICE_MESSAGE_TYPES)

    def test_samples_match_the_builders(self):
        hello = load_sample_json(protocol.DEVICE_HELLO)
        data = hello["data"]
        rebuilt = protocol.build_device_hello(
            data["device_id"],
            data["firmware_version"],
            data["board"],
            data["lights"],
            data["mode"],
            data["lan_url"],
            data["lan_token"],
        )
        self.assertEqual(rebuilt, hello)
        self.assertEqual(load_sample_json(protocol.HEARTBEAT_PONG), protocol.build_heartbeat_pong())


class BuildTest(unittest.TestCase):
    def roundtrip(self, message, allowed):
        parsed = protocol.parse(protocol.encode(message), allowed)
        self.assertEqual(parsed, message)
        return parsed

    def test_ota_offer_asserted_version_and_board(self):
        plain = protocol.build_ota_offer(4, "/device/firmware/4", "{}", "ab" * 64)
        self.assertNotIn("version", plain["data"])
        self.assertNotIn("board", plain["data"])
        message = protocol.build_ota_offer(4, "/device/firmware/4", "{}", "ab" * 64, False, "0.2.0", "esp32")
        parsed = self.roundtrip(message, protocol.HUB_MESSAGE_TYPES)
        self.assertEqual((parsed["data"]["version"], parsed["data"]["board"]), ("0.2.0", "esp32"))
        message["data"]["board"] = "x" * 65
        with self.assertRaises(protocol.ProtocolError):
            protocol.parse(protocol.encode(message), protocol.HUB_MESSAGE_TYPES)

    def test_device_hello(self):
        message = protocol.build_device_hello("dev-1", "0.1.0", "host", [entry()], boot_slot=1)
        parsed = self.roundtrip(message, protocol.DEVICE_MESSAGE_TYPES)
        self.assertEqual(parsed["data"]["mode"], protocol.MODE_LOCAL)
        self.assertEqual(parsed["data"]["boot_slot"], 1)
        self.assertNotIn("lan_url", parsed["data"])

    def test_state_report_keeps_changed_flag(self):
        parsed = self.roundtrip(
            protocol.build_state_report([entry(3, changed=True)]), protocol.DEVICE_MESSAGE_TYPES
        )
        self.assertTrue(parsed["data"]["lights"][0]["changed"])

    def test_heartbeat_ping_with_and_without_figures(self):
        self.assertEqual(protocol.build_heartbeat_ping()["data"], {})
        message = protocol.build_heartbeat_ping(uptime=5, free_memory=1000, rssi=-70)
        self.roundtrip(message, protocol.DEVICE_MESSAGE_TYPES)

    def test_hub_messages(self):
        self.roundtrip(protocol.build_hub_welcome("dev-1", 15, [entry()]), protocol.HUB_MESSAGE_TYPES)
        self.roundtrip(protocol.build_state_set([entry(2, False)]), protocol.HUB_MESSAGE_TYPES)
        self.roundtrip(protocol.build_heartbeat_pong(), protocol.HUB_MESSAGE_TYPES)
        reject = protocol.build_message_reject(protocol.ERROR_BAD_DATA, "nope", "42")
        self.assertEqual(self.roundtrip(reject, protocol.HUB_MESSAGE_TYPES)["data"]["ref"], "42")

    def test_envelope_id(self):
        message = protocol.envelope(protocol.HEARTBEAT_PONG, {}, message_id=7)
        self.assertEqual(protocol.parse(json.dumps(message))["id"], 7)

    def test_apply_action(self):
        self.assertEqual(protocol.apply_action({"on": False}, protocol.ACTION_ON), {"on": True})
        self.assertEqual(protocol.apply_action({"on": True}, protocol.ACTION_OFF), {"on": False})
        self.assertEqual(protocol.apply_action({"on": True}, protocol.ACTION_TOGGLE), {"on": False})
        with self.assertRaises(protocol.ProtocolError):
            protocol.apply_action({"on": True}, "explode")


class ErrorCodeTest(unittest.TestCase):
    def code_of(self, raw, allowed=None):
        with self.assertRaises(protocol.ProtocolError) as caught:
            protocol.parse(raw, allowed)
        return caught.exception.code

    def test_too_large(self):
        self.assertEqual(self.code_of("x" * (protocol.MAX_MESSAGE_BYTES + 1)), protocol.ERROR_TOO_LARGE)

    def test_bad_json(self):
        self.assertEqual(self.code_of("{not json"), protocol.ERROR_BAD_JSON)
        self.assertEqual(self.code_of(b"\xff\xfe"), protocol.ERROR_BAD_JSON)

    def test_bad_envelope(self):
        pong = protocol.HEARTBEAT_PONG
        for message in (
            [],
            {"type": pong, "data": {}},
            {"v": True, "type": pong, "data": {}},
            {"v": 1, "data": {}},
            {"v": 1, "type": pong, "data": []},
            {"v": 1, "type": pong, "data": {}, "id": [1]},
        ):
            self.assertEqual(self.code_of(json.dumps(message)), protocol.ERROR_BAD_ENVELOPE, message)

    def test_unsupported_version(self):
        self.assertEqual(
            self.code_of(json.dumps({"v": 2, "type": protocol.HEARTBEAT_PONG, "data": {}})),
            protocol.ERROR_UNSUPPORTED_VERSION,
        )

    def test_unknown_type(self):
        self.assertEqual(
            self.code_of('{"v": 1, "type": "ota.unknown", "data": {}}'), protocol.ERROR_UNKNOWN_TYPE
        )

    def test_bad_data(self):
        bad = [
            protocol.build_state_set([{"room": "", "light": "x", "state": {"on": True}, "version": 1}]),
            protocol.build_state_set([{"room": "r", "light": "x", "state": {"on": 1}, "version": 1}]),
            protocol.build_state_set([{"room": "r", "light": "x", "state": {"on": True}, "version": True}]),
            protocol.build_state_set([{"room": "r", "light": "x", "state": {"on": True}, "version": -1}]),
            protocol.build_state_set(
                [{"room": "r", "light": "x", "state": {"on": True}, "version": 1, "changed": 1}]
            ),
            protocol.build_state_set([entry()] * (protocol.MAX_LIGHTS + 1)),
            protocol.build_state_set("lights"),
            protocol.build_heartbeat_ping(rssi="strong"),
            protocol.build_hub_welcome("dev-1", 0, []),
            protocol.build_device_hello("dev-1", "1", "host", [], mode="orbit"),
            protocol.envelope(protocol.MESSAGE_REJECT, {"reason": "no code"}),
        ]
        for message in bad:
            self.assertEqual(self.code_of(protocol.encode(message)), protocol.ERROR_BAD_DATA, message)

    def test_every_error_code_is_distinct(self):
        codes = [
            protocol.ERROR_TOO_LARGE,
            protocol.ERROR_BAD_JSON,
            protocol.ERROR_BAD_ENVELOPE,
            protocol.ERROR_UNSUPPORTED_VERSION,
            protocol.ERROR_UNKNOWN_TYPE,
            protocol.ERROR_BAD_DATA,
            protocol.ERROR_UNKNOWN_LIGHT,
            protocol.ERROR_WRONG_DEVICE,
        ]
        self.assertEqual(len(set(codes)), len(codes))
        for code in codes:
            reject = protocol.build_message_reject(code, "why")
            self.assertEqual(protocol.parse(protocol.encode(reject))["data"]["code"], code)


class VersionRulesTest(unittest.TestCase):
    def test_should_apply_only_newer(self):
        self.assertTrue(protocol.should_apply(1, 2))
        self.assertFalse(protocol.should_apply(2, 2))
        self.assertFalse(protocol.should_apply(3, 2))

    def test_classify_report(self):
        self.assertEqual(protocol.classify_report(4, entry(4)), protocol.REPORT_APPLIED)
        self.assertEqual(protocol.classify_report(4, entry(3)), protocol.REPORT_STALE)
        self.assertEqual(protocol.classify_report(4, entry(5)), protocol.REPORT_AHEAD)
        self.assertEqual(protocol.classify_report(4, entry(4, changed=True)), protocol.REPORT_LOCAL_CHANGE)
        self.assertEqual(protocol.classify_report(5, entry(4, changed=True)), protocol.REPORT_CONFLICT)
        # A device's change beats a held desired state (adaptive lighting).
        self.assertEqual(protocol.classify_report(5, entry(4, changed=True), True), protocol.REPORT_LOCAL_CHANGE)
        self.assertEqual(protocol.classify_report(5, entry(4), True), protocol.REPORT_STALE)


if __name__ == "__main__":
    unittest.main()
