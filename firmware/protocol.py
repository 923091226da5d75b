"""Lamplighter device protocol v1: every hub<->device message, built and validated here.

This module is the protocol's only definition. The firmware and the hub both import it,
so it is written in the MicroPython subset (no dataclasses, enum or typing at run time).
docs/protocol.md describes it for people.
"""

import json

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 16384
MAX_NAME_LENGTH = 64
MAX_LIGHTS = 64
MAX_TEXT_LENGTH = 256

# Routes: the hub's, used by devices.
HUB_WEBSOCKET_PATH = "/ws/device/"
HUB_POLL_PATH = "/lights_status/"
HUB_MESSAGES_PATH = "/device/messages/"
# Routes: the device's own web server, used by people and by the hub on a LAN.
DEVICE_CONTROL_PATH = "/control_led"
DEVICE_STATUS_PATH = "/status"
# Basic-auth user name the hub uses towards a device's web server (password: the lan_token).
HUB_LAN_USER = "hub"

# Messages a device sends.
DEVICE_HELLO = "device.hello"
STATE_REPORT = "state.report"
HEARTBEAT_PING = "heartbeat.ping"
# Messages the hub sends.
HUB_WELCOME = "hub.welcome"
STATE_SET = "state.set"
HEARTBEAT_PONG = "heartbeat.pong"
MESSAGE_REJECT = "message.reject"

DEVICE_MESSAGE_TYPES = (DEVICE_HELLO, STATE_REPORT, HEARTBEAT_PING)
HUB_MESSAGE_TYPES = (HUB_WELCOME, STATE_SET, HEARTBEAT_PONG, MESSAGE_REJECT)

# /control_led actions.
ACTION_ON = "on"
ACTION_OFF = "off"
ACTION_TOGGLE = "toggle"
ACTIONS = (ACTION_ON, ACTION_OFF, ACTION_TOGGLE)

# Modes a device reports: which kind of hub address it is using.
MODE_LOCAL = "local"
MODE_REMOTE = "remote"
MODES = (MODE_LOCAL, MODE_REMOTE)

# Error codes carried by message.reject and ProtocolError.
ERROR_TOO_LARGE = "too_large"
ERROR_BAD_JSON = "bad_json"
ERROR_BAD_ENVELOPE = "bad_envelope"
ERROR_UNSUPPORTED_VERSION = "unsupported_version"
ERROR_UNKNOWN_TYPE = "unknown_type"
ERROR_BAD_DATA = "bad_data"
ERROR_UNKNOWN_LIGHT = "unknown_light"
ERROR_WRONG_DEVICE = "wrong_device"


class ProtocolError(ValueError):
    """A message that cannot be accepted; code is one of the ERROR_* constants."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ---- light state -------------------------------------------------------------------


def light_state(on):
    """Return a light's state object; v1 knows only "on" (brightness and colour may follow)."""
    return {"on": bool(on)}


def apply_action(state, action):
    """Return the state that a /control_led action turns `state` into."""
    if action == ACTION_ON:
        return light_state(True)
    if action == ACTION_OFF:
        return light_state(False)
    if action == ACTION_TOGGLE:
        return light_state(not state.get("on", False))
    raise ProtocolError(ERROR_BAD_DATA, "action must be one of on, off, toggle")


def light_entry(room, light, state, version, changed=False):
    """Return one light as it travels in a message: names, state and version."""
    entry = {"room": room, "light": light, "state": state, "version": version}
    if changed:
        entry["changed"] = True
    return entry


# ---- reconciling a report ------------------------------------------------------------

# What a reported light means for the hub (docs/protocol.md, "Versions and conflicts").
REPORT_APPLIED = "applied"  # the device runs the desired version: store it as reported
REPORT_STALE = "stale"  # the device is behind: send the desired state again
REPORT_AHEAD = "ahead"  # the device has a newer version than the hub knows (hub restored)
REPORT_LOCAL_CHANGE = "local_change"  # changed on the device: becomes the new desired state
REPORT_CONFLICT = "conflict"  # changed on both sides while apart: the hub's state wins


def classify_report(desired_version, entry):
    """Decide what one reported light means, given the hub's desired version for it."""
    version = entry["version"]
    if entry.get("changed"):
        return REPORT_LOCAL_CHANGE if version >= desired_version else REPORT_CONFLICT
    if version == desired_version:
        return REPORT_APPLIED
    return REPORT_AHEAD if version > desired_version else REPORT_STALE


def should_apply(current_version, entry_version):
    """Device side: apply a desired state only if it is newer than what the light runs."""
    return entry_version > current_version


# ---- building ----------------------------------------------------------------------


def envelope(message_type, data, message_id=None):
    """Wrap data in the v1 envelope every message shares."""
    message = {"v": PROTOCOL_VERSION, "type": message_type, "data": data}
    if message_id is not None:
        message["id"] = message_id
    return message


def build_device_hello(
    device_id,
    firmware_version,
    board,
    lights,
    mode=MODE_LOCAL,
    lan_url=None,
    lan_token=None,
    boot_slot=None,
):
    """Device -> hub, first message on every connection: who it is and what its lights are."""
    data = {
        "device_id": device_id,
        "protocol": PROTOCOL_VERSION,
        "firmware_version": firmware_version,
        "board": board,
        "mode": mode,
        "lights": lights,
    }
    if lan_url is not None:
        data["lan_url"] = lan_url
    if lan_token is not None:
        data["lan_token"] = lan_token
    if boot_slot is not None:
        data["boot_slot"] = boot_slot
    return envelope(DEVICE_HELLO, data)


def build_state_report(lights):
    """Device -> hub: the state of these lights now, each with the version it is based on."""
    return envelope(STATE_REPORT, {"lights": lights})


def build_heartbeat_ping(uptime=None, free_memory=None, rssi=None):
    """Device -> hub: still here; optional health figures."""
    data = {}
    if uptime is not None:
        data["uptime"] = uptime
    if free_memory is not None:
        data["free_memory"] = free_memory
    if rssi is not None:
        data["rssi"] = rssi
    return envelope(HEARTBEAT_PING, data)


def build_hub_welcome(device_id, heartbeat_interval, lights):
    """Hub -> device, answer to device.hello: the desired state of every light it drives."""
    return envelope(
        HUB_WELCOME,
        {
            "device_id": device_id,
            "protocol": PROTOCOL_VERSION,
            "heartbeat_interval": heartbeat_interval,
            "lights": lights,
        },
    )


def build_state_set(lights):
    """Hub -> device: desired states, each with its version."""
    return envelope(STATE_SET, {"lights": lights})


def build_heartbeat_pong():
    """Hub -> device: answer to heartbeat.ping."""
    return envelope(HEARTBEAT_PONG, {})


def build_message_reject(code, reason, ref=None):
    """Hub -> device: the message could not be accepted, and why."""
    return envelope(MESSAGE_REJECT, {"code": code, "reason": reason, "ref": ref})


def encode(message):
    """Serialize a message for the wire."""
    return json.dumps(message)


# ---- parsing and validation --------------------------------------------------------


def _fail(reason):
    raise ProtocolError(ERROR_BAD_DATA, reason)


def _require(data, key):
    if key not in data:
        _fail("missing field: " + key)
    return data[key]


def _check_text(value, name, limit=MAX_TEXT_LENGTH, allow_empty=False):
    if not isinstance(value, str):
        _fail(name + " must be a string")
    if len(value) > limit or (not allow_empty and not value):
        _fail(name + " must be 1 to " + str(limit) + " characters")
    return value


def _check_int(value, name, minimum=0):
    # bool is an int subclass; a version of True is a bug, not a version.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(name + " must be an integer >= " + str(minimum))
    return value


def check_state(state):
    """Validate a light state object; unknown keys are kept for forward compatibility."""
    if not isinstance(state, dict):
        _fail("state must be an object")
    if not isinstance(state.get("on"), bool):
        _fail("state.on must be true or false")
    return state


def check_name(value, name):
    """Validate a room or light name."""
    return _check_text(value, name, MAX_NAME_LENGTH)


def _check_lights(data):
    lights = _require(data, "lights")
    if not isinstance(lights, list):
        _fail("lights must be a list")
    if len(lights) > MAX_LIGHTS:
        _fail("at most " + str(MAX_LIGHTS) + " lights per message")
    for entry in lights:
        if not isinstance(entry, dict):
            _fail("each light must be an object")
        check_name(_require(entry, "room"), "room")
        check_name(_require(entry, "light"), "light")
        check_state(_require(entry, "state"))
        _check_int(_require(entry, "version"), "version")
        if not isinstance(entry.get("changed", False), bool):
            _fail("changed must be true or false")
    return data


def _check_device_hello(data):
    _check_text(_require(data, "device_id"), "device_id", MAX_NAME_LENGTH)
    _check_int(_require(data, "protocol"), "protocol", 1)
    _check_text(_require(data, "firmware_version"), "firmware_version", MAX_NAME_LENGTH)
    _check_text(_require(data, "board"), "board", MAX_NAME_LENGTH)
    if data.get("mode", MODE_LOCAL) not in MODES:
        _fail("mode must be local or remote")
    for key in ("lan_url", "lan_token"):
        if data.get(key) is not None:
            _check_text(data[key], key)
    if data.get("boot_slot") is not None:
        _check_int(data["boot_slot"], "boot_slot")
    return _check_lights(data)


def _check_heartbeat_ping(data):
    for key in ("uptime", "free_memory"):
        if data.get(key) is not None:
            _check_int(data[key], key)
    rssi = data.get("rssi")
    if rssi is not None and (isinstance(rssi, bool) or not isinstance(rssi, int)):
        _fail("rssi must be an integer")
    return data


def _check_hub_welcome(data):
    _check_text(_require(data, "device_id"), "device_id", MAX_NAME_LENGTH)
    _check_int(_require(data, "protocol"), "protocol", 1)
    _check_int(_require(data, "heartbeat_interval"), "heartbeat_interval", 1)
    return _check_lights(data)


def _check_nothing(data):
    return data


def _check_message_reject(data):
    _check_text(_require(data, "code"), "code", MAX_NAME_LENGTH)
    _check_text(_require(data, "reason"), "reason", MAX_TEXT_LENGTH, allow_empty=True)
    return data


_VALIDATORS = {
    DEVICE_HELLO: _check_device_hello,
    STATE_REPORT: _check_lights,
    HEARTBEAT_PING: _check_heartbeat_ping,
    HUB_WELCOME: _check_hub_welcome,
    STATE_SET: _check_lights,
    HEARTBEAT_PONG: _check_nothing,
    MESSAGE_REJECT: _check_message_reject,
}


def parse(raw, allowed_types=None):
    """Decode and validate one message; return it as a dict or raise ProtocolError.

    raw is str or bytes; allowed_types limits the direction (DEVICE_MESSAGE_TYPES on the
    hub, HUB_MESSAGE_TYPES on a device).
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ProtocolError(ERROR_TOO_LARGE, "message larger than " + str(MAX_MESSAGE_BYTES) + " bytes")
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeError:
            raise ProtocolError(ERROR_BAD_JSON, "message is not UTF-8")
    try:
        message = json.loads(raw)
    except ValueError:
        raise ProtocolError(ERROR_BAD_JSON, "message is not valid JSON")
    return validate(message, allowed_types)


def validate(message, allowed_types=None):
    """Validate an already decoded message (see parse)."""
    if not isinstance(message, dict):
        raise ProtocolError(ERROR_BAD_ENVELOPE, "message must be a JSON object")
    version = message.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProtocolError(ERROR_BAD_ENVELOPE, "missing protocol version v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(ERROR_UNSUPPORTED_VERSION, "protocol version " + str(version) + " is not supported")
    message_type = message.get("type")
    if not isinstance(message_type, str):
        raise ProtocolError(ERROR_BAD_ENVELOPE, "missing message type")
    validator = _VALIDATORS.get(message_type)
    if validator is None or (allowed_types is not None and message_type not in allowed_types):
        raise ProtocolError(ERROR_UNKNOWN_TYPE, "unknown message type: " + message_type[:MAX_NAME_LENGTH])
    data = message.get("data")
    if not isinstance(data, dict):
        raise ProtocolError(ERROR_BAD_ENVELOPE, "data must be an object")
    message_id = message.get("id")
    if message_id is not None and not isinstance(message_id, (str, int)):
        raise ProtocolError(ERROR_BAD_ENVELOPE, "id must be a string or an integer")
    validator(data)
    return message
