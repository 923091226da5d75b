"""Lamplighter device protocol v1: every hub<->device message, built and validated here.

This module is the protocol's only definition. The firmware and the hub both import it,
so it is written in the MicroPython subset (no dataclasses, enum or typing at run time).
docs/protocol.md describes it for people.
"""

import json

try:
    from micropython import const
except ImportError:  # CPython (the hub)

    def const(value):
        """micropython.const on CPython: the value itself."""
        return value


PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 16384
MAX_NAME_LENGTH = 64
MAX_LIGHTS = 64
MAX_TEXT_LENGTH = 256
MAX_LOG_LINE_LENGTH = 200  # characters per log line (longer lines are cut by the device)
PAIRING_CODE_LENGTH = 8
PAIRING_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a screen

# Routes: the hub's, used by devices.
HUB_WEBSOCKET_PATH = "/ws/device/"
HUB_POLL_PATH = "/lights_status/"
HUB_MESSAGES_PATH = "/device/messages/"
# Provisioning: an unconfigured device trades a one-time pairing code for its id and secret.
HUB_PAIR_PATH = "/device/pair/"
# Routes: the device's own web server, used by people and by the hub on a LAN.
DEVICE_CONTROL_PATH = "/control_led"
DEVICE_STATUS_PATH = "/status"
# OTA (docs/ota.md): the seed's push route on the device, and the hub's image download for pulls.
DEVICE_UPDATE_PATH = "/django_update_firmware"
# Basic-auth user name the hub uses towards a device's web server (password: the lan_token).
HUB_LAN_USER = "hub"

# Messages a device sends.
DEVICE_HELLO = "device.hello"
STATE_REPORT = "state.report"
HEARTBEAT_PING = "heartbeat.ping"
LOG_BATCH = "log.batch"
# Messages the hub sends.
HUB_WELCOME = "hub.welcome"
STATE_SET = "state.set"
HEARTBEAT_PONG = "heartbeat.pong"
MESSAGE_REJECT = "message.reject"

HUB_MESSAGE_TYPES = (HUB_WELCOME, STATE_SET, HEARTBEAT_PONG, MESSAGE_REJECT)

# OTA messages (docs/ota.md): the hub offers an image, the device reports progress and the result.
OTA_OFFER = "ota.offer"
OTA_PROGRESS = "ota.progress"
OTA_RESULT = "ota.result"
HUB_MESSAGE_TYPES = HUB_MESSAGE_TYPES + (OTA_OFFER,)
# ota.progress states and ota.result statuses.
OTA_DOWNLOADING = "downloading"
OTA_VERIFYING = "verifying"
OTA_REBOOTING = "rebooting"
OTA_CONFIRMED = "confirmed"
OTA_FAILED = "failed"
OTA_ROLLED_BACK = "rolled_back"
MAX_MANIFEST_LENGTH = 1024
# Headers of a LAN push to DEVICE_UPDATE_PATH (the body is the image).
OTA_HEADER_JOB = "X-Lamplighter-Job"
OTA_HEADER_MANIFEST = "X-Lamplighter-Manifest"  # base64 of the manifest text
OTA_HEADER_SIGNATURE = "X-Lamplighter-Signature"  # hex, absent when unsigned
OTA_HEADER_FORCE = "X-Lamplighter-Force"  # "1" allows a downgrade
# The hub's asserted version and board, sent only with a content manifest (no version/board).
OTA_HEADER_VERSION = "X-Lamplighter-Version"
OTA_HEADER_BOARD = "X-Lamplighter-Board"

# /control_led actions.
ACTION_ON = "on"
ACTION_OFF = "off"
ACTION_TOGGLE = "toggle"
ACTIONS = (ACTION_ON, ACTION_OFF, ACTION_TOGGLE)

# Modes a device reports: which kind of hub address it is using.
MODE_LOCAL = "local"
MODE_REMOTE = "remote"

# Error codes carried by message.reject and ProtocolError (the hub's own ones in hub.py).
ERROR_TOO_LARGE = "too_large"
ERROR_BAD_JSON = "bad_json"
ERROR_BAD_ENVELOPE = "bad_envelope"
ERROR_UNSUPPORTED_VERSION = "unsupported_version"
ERROR_UNKNOWN_TYPE = "unknown_type"
ERROR_BAD_DATA = "bad_data"


class ProtocolError(ValueError):
    """A message that cannot be accepted; code is one of the ERROR_* constants."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# ---- light kinds and state -------------------------------------------------------------

# What a light's output can do (docs/protocol.md, "Light kinds").
KIND_ONOFF = "onoff"
KIND_DIMMABLE = "dimmable"
KIND_TUNABLE_WHITE = "tunable_white"
KIND_RGB = "rgb"
LIGHT_KINDS = (KIND_ONOFF, KIND_DIMMABLE, KIND_TUNABLE_WHITE, KIND_RGB)
MAX_BRIGHTNESS = 255
MIN_KELVIN = 1000  # any light's colour-temperature range lies within these bounds
MAX_KELVIN = 20000
DEFAULT_KELVIN_RANGE = (2700, 6500)
MAX_TRANSITION_MS = 3600000  # one hour: a 30-minute sunrise is one command
MAX_FLASH_MS = 60000  # longest blink a state.set entry's flash_ms asks for
# Versioned capabilities in device.hello and hub.welcome: "lights" 1 (or absent) is on/off only,
# 2 adds kinds, brightness, colour temperature, rgb and transition_ms, 3 adds hold, stop, cause
# and manual (docs/protocol.md, "Adaptive lighting"), 4 adds flash_ms ("Flash").
LIGHTS_RICH = 2
LIGHTS_ADAPTIVE = 3
LIGHTS_FLASH = 4
LIGHTS_CAPABILITY = LIGHTS_FLASH  # what this module supports

# What caused a light's state: "cause" in state.set (the hub's asker, echoed) and state.report;
# the causes only a hub gives (Home Assistant, adaptive lighting) are in hub.py.
CAUSE_HUB = "hub"  # the dashboard, the API, a scene or a schedule; a state.set without cause
CAUSE_BUTTON = "button"  # a button on the device
CAUSE_WEB = "web"  # a person on the device's /control_led or page
MAX_CAUSE_LENGTH = 16  # a peer keeps (and echoes) a cause it does not know
# What a person changed on the device: "manual" in state.report.
MANUAL_BRIGHTNESS = "brightness"
MANUAL_COLOR = "color"
MANUAL_PARTS = (MANUAL_BRIGHTNESS, MANUAL_COLOR)

_BRIGHTNESS = const("brightness")
_KELVIN = const("color_temp_kelvin")
_RGB = const("rgb")
_DEFAULT_KELVIN = const(4000)  # a new tunable-white light's colour temperature (clamped to its range)


def kind_fields(kind):
    """The state fields (besides on) a light of this kind has; ProtocolError for an unknown kind."""
    if kind not in LIGHT_KINDS:
        _fail("kind must be one of " + ", ".join(LIGHT_KINDS))
    if kind == KIND_ONOFF:
        return ()
    if kind == KIND_DIMMABLE:
        return (_BRIGHTNESS,)
    return (_BRIGHTNESS, _KELVIN if kind == KIND_TUNABLE_WHITE else _RGB)


def check_kelvin_range(value):
    """Validate a light's colour-temperature range [min, max] (kelvin); return it as a list."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        _fail("kelvin must be [min, max]")
    low = _check_int(value[0], "kelvin min", MIN_KELVIN)
    high = _check_int(value[1], "kelvin max", low + 1)
    if high > MAX_KELVIN:
        _fail("kelvin max must be at most " + str(MAX_KELVIN))
    return [low, high]


def check_transition(value):
    """Validate transition_ms: an integer from 0 to MAX_TRANSITION_MS; return it."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TRANSITION_MS:
        _fail("transition_ms must be an integer from 0 to " + str(MAX_TRANSITION_MS))
    return value


def check_flash(value):
    """Validate flash_ms: an integer from 1 to MAX_FLASH_MS; return it."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_FLASH_MS:
        _fail("flash_ms must be an integer from 1 to " + str(MAX_FLASH_MS))
    return value


def _check_fields(state, kind, kelvin_range):
    # The brightness/colour fields of state (on aside), validated; only the kind's when kind is set.
    fields = {}
    allowed = kind_fields(kind) if kind is not None else (_BRIGHTNESS, _KELVIN, _RGB)
    for name in (_BRIGHTNESS, _KELVIN, _RGB):
        if name not in state:
            continue
        if name not in allowed:
            _fail("state." + name + " is not a field of a light of kind " + kind)
        value = state[name]
        numbers = [value]
        low, high = 0, MAX_BRIGHTNESS
        if name == _KELVIN:
            low, high = kelvin_range or (MIN_KELVIN, MAX_KELVIN)
        elif name == _RGB:
            if not isinstance(value, (list, tuple)) or len(value) != 3:
                _fail("state.rgb must be [r, g, b]")
            numbers = value = list(value)
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
                what = " values must be integers" if name == _RGB else " must be an integer"
                _fail("state." + name + what + " from " + str(low) + " to " + str(high))
        fields[name] = value
    return fields


def check_state(state, kind=None, kelvin_range=None):
    """Validate a light state object; return it normalised.

    Without a kind (a message's shape): any known field is checked, unknown keys are kept for
    forward compatibility, and the state itself is returned. With a kind: a field that kind
    lacks is an error, and a new dict holds on and the kind's fields given.
    """
    if not isinstance(state, dict):
        _fail("state must be an object")
    if not isinstance(state.get("on"), bool):
        _fail("state.on must be true or false")
    fields = _check_fields(state, kind, kelvin_range)
    if kind is None:
        return state
    fields["on"] = state["on"]
    return fields


def initial_state(kind, kelvin_range=None):
    """A new light's full state for its kind: off, full brightness, neutral white or white."""
    state = {"on": False}
    fields = kind_fields(kind)
    if _BRIGHTNESS in fields:
        state[_BRIGHTNESS] = MAX_BRIGHTNESS
    if _KELVIN in fields:
        low, high = kelvin_range or DEFAULT_KELVIN_RANGE
        state[_KELVIN] = min(max(_DEFAULT_KELVIN, low), high)
    if _RGB in fields:
        state[_RGB] = [MAX_BRIGHTNESS, MAX_BRIGHTNESS, MAX_BRIGHTNESS]
    return state


def merge_state(current, update, kind, kelvin_range=None):
    """Merge a partial update into a light's current state; return the full new state.

    {"brightness": 40} keeps on and the colour; {"on": true} alone comes back at the last
    brightness and colour (kept while off). Fields the kind lacks are an error (ProtocolError).
    """
    if not isinstance(update, dict):
        _fail("state must be an object")
    if "on" in update and not isinstance(update["on"], bool):
        _fail("state.on must be true or false")
    changes = _check_fields(update, kind, kelvin_range)
    merged = initial_state(kind, kelvin_range)
    for name in merged:
        if name in current:
            value = current[name]
            merged[name] = list(value) if name == _RGB else value
    if _KELVIN in merged and kelvin_range is not None:  # a saved value from a wider range
        merged[_KELVIN] = min(max(merged[_KELVIN], kelvin_range[0]), kelvin_range[1])
    merged.update(changes)
    if "on" in update:
        merged["on"] = update["on"]
    return merged


def apply_action(state, action):
    """Return the state that a /control_led action turns `state` into (brightness and colour kept)."""
    if action not in ACTIONS:
        _fail("action must be one of on, off, toggle")
    result = dict(state)
    result["on"] = action == ACTION_ON or (action == ACTION_TOGGLE and not state.get("on", False))
    return result


def capabilities():
    """What this protocol module supports, for device.hello and hub.welcome."""
    return {"lights": LIGHTS_CAPABILITY}


def lights_capability(data):
    """The lights capability a peer announced in its hello or welcome data (1 when absent)."""
    return (data.get("capabilities") or {}).get("lights", 1)


def state_for(state, lights_capability):
    """A state as a peer with this lights capability understands it: only on for an on/off peer."""
    if lights_capability >= LIGHTS_RICH:
        return state
    return {"on": state["on"]}


def manual_parts(fields):
    """What a change of these state fields touches, as "manual" names it (brightness, color)."""
    parts = []
    if _BRIGHTNESS in fields:
        parts.append(MANUAL_BRIGHTNESS)
    if _KELVIN in fields or _RGB in fields:
        parts.append(MANUAL_COLOR)
    return parts


def light_entry(
    room,
    light,
    state,
    version,
    changed=False,
    transition_ms=None,
    kind=None,
    kelvin=None,
    hold=False,
    stop=False,
    cause=None,
    manual=None,
    flash_ms=None,
):
    """Return one light as it travels in a message: names, state and version.

    transition_ms goes with state.set (a fade to the state); kind and kelvin (the light's
    colour-temperature range) with device.hello and hub.welcome. hold and stop (state.set) and
    cause and manual (state.set, state.report) are the adaptive fields (lights capability 3);
    flash_ms (state.set) blinks the light, then shows its state again (lights capability 4).
    """
    entry = {"room": room, "light": light, "state": state, "version": version}
    if changed:
        entry["changed"] = True
    if transition_ms is not None:
        entry["transition_ms"] = transition_ms
    if kind is not None:
        entry["kind"] = kind
    if kelvin is not None:
        entry["kelvin"] = list(kelvin)
    if hold:
        entry["hold"] = True
    if stop:
        entry["stop"] = True
    if cause is not None:
        entry["cause"] = cause
    if manual:
        entry["manual"] = list(manual)
    if flash_ms is not None:
        entry["flash_ms"] = flash_ms
    return entry


# ---- reconciling a report ------------------------------------------------------------



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
    capabilities=None,
):
    """Device -> hub, first message on every connection: who it is and what its lights are.

    capabilities: protocol.capabilities() from a device that drives rich lights (absent: on/off).
    """
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
    if capabilities is not None:
        data["capabilities"] = capabilities
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


def log_line(seq, uptime, level, text):
    """One log line as it travels in a log.batch: sequence number, device uptime (s), level, text."""
    return {"seq": seq, "uptime": uptime, "level": level, "text": text[:MAX_LOG_LINE_LENGTH]}


def build_log_batch(lines, dropped=0):
    """Device -> hub: recent log lines (already masked), and how many were dropped since the last batch."""
    return envelope(LOG_BATCH, {"lines": lines, "dropped": dropped})


def encode(message):
    """Serialize a message for the wire."""
    return json.dumps(message)


# ---- pairing (HTTP, not an envelope message) ----------------------------------------


def normalize_pairing_code(code):
    """The code as the hub stores it: upper case, without spaces or dashes; ProtocolError if malformed."""
    if not isinstance(code, str):
        _fail("code must be a string")
    code = code.replace("-", "").replace(" ", "").upper()
    if len(code) != PAIRING_CODE_LENGTH:
        _fail("code must be " + str(PAIRING_CODE_LENGTH) + " characters")
    for char in code:
        if char not in PAIRING_CODE_ALPHABET:
            _fail("code has a character that is never used in codes")
    return code


def build_pair_request(code, name, board):
    """Device -> hub, POST HUB_PAIR_PATH: the pairing code read from the dashboard, and who the device is."""
    return {"code": code, "name": name, "board": board}


def check_pair_response(body):
    """Device side: validate the hub's answer to a pairing request (device_id, secret, name)."""
    if not isinstance(body, dict):
        _fail("the answer must be a JSON object")
    _check_text(_require(body, "device_id"), "device_id", MAX_NAME_LENGTH)
    _check_text(_require(body, "secret"), "secret")
    _check_text(_require(body, "name"), "name", MAX_NAME_LENGTH)
    return body


# ---- OTA ----------------------------------------------------------------------------


def build_ota_progress(job, state, received, size):
    """Device -> hub: how far an update is (state is one of OTA_PROGRESS_STATES)."""
    return envelope(OTA_PROGRESS, {"job": job, "state": state, "received": received, "size": size})


def build_ota_result(job, status, reason=None, detail=None, version=None, boot_slot=None):
    """Device -> hub: an update ended: confirmed, failed (reason says why) or rolled_back."""
    data = {"job": job, "status": status}
    for key, value in (("reason", reason), ("detail", detail), ("version", version), ("boot_slot", boot_slot)):
        if value is not None:
            data[key] = value
    return envelope(OTA_RESULT, data)


def _check_ota_offer(data):
    _check_int(_require(data, "job"), "job", 1)
    _check_text(_require(data, "url"), "url")
    _check_text(_require(data, "manifest"), "manifest", MAX_MANIFEST_LENGTH)
    if data.get("signature") is not None:
        _check_text(data["signature"], "signature", 128)
    if not isinstance(data.get("force", False), bool):
        _fail("force must be true or false")
    for key in ("version", "board"):
        if data.get(key) is not None:
            _check_text(data[key], key, 64)
    return data


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


def check_name(value, name):
    """Validate a room or light name."""
    return _check_text(value, name, MAX_NAME_LENGTH)


def _check_lights(data):
    capabilities = data.get("capabilities")  # device.hello and hub.welcome
    if capabilities is not None:
        if not isinstance(capabilities, dict):
            _fail("capabilities must be an object")
        if "lights" in capabilities:
            _check_int(capabilities["lights"], "capabilities.lights", 1)
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
        kind = entry.get("kind")
        if kind is not None:
            kind_fields(kind)
        kelvin = entry.get("kelvin")
        if kelvin is not None:
            kelvin = check_kelvin_range(kelvin)
        check_state(_require(entry, "state"), kind, kelvin)
        _check_int(_require(entry, "version"), "version")
        if not isinstance(entry.get("changed", False), bool):
            _fail("changed must be true or false")
        if "transition_ms" in entry:
            check_transition(entry["transition_ms"])
        if "flash_ms" in entry:
            check_flash(entry["flash_ms"])
        check_adaptive(entry)
    return data


def check_adaptive(entry):
    """Validate an entry's lights-3 fields (hold, stop, cause, manual); an unknown cause is kept."""
    for name in ("hold", "stop"):
        if not isinstance(entry.get(name, False), bool):
            _fail(name + " must be true or false")
    if entry.get("hold") and entry.get("stop"):
        _fail("hold and stop exclude each other")
    if entry.get("cause") is not None:
        _check_text(entry["cause"], "cause", MAX_CAUSE_LENGTH)
    manual = entry.get("manual")
    if manual is not None:
        if not isinstance(manual, list) or len(manual) > len(MANUAL_PARTS):
            _fail("manual must be a list of " + ", ".join(MANUAL_PARTS))
        for part in manual:
            if part not in MANUAL_PARTS:
                _fail("manual must be a list of " + ", ".join(MANUAL_PARTS))



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
    HUB_WELCOME: _check_hub_welcome,
    STATE_SET: _check_lights,
    HEARTBEAT_PONG: _check_nothing,
    MESSAGE_REJECT: _check_message_reject,
}
_VALIDATORS[OTA_OFFER] = _check_ota_offer


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


# The hub's half (building hub messages, checking device messages): not in a board's bundle.
try:
    from .hub import *  # noqa: F403
except ImportError:  # a board: the device never needs it
    pass
