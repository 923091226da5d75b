"""The hub's half of the device protocol: building hub messages, checking device messages.

Part of the one definition (the package's __init__ holds the rest and re-exports these names,
so `protocol.build_hub_welcome` works as before). A board never builds these messages nor
checks its own, so `lamplighter firmware bundle` leaves this module out (less heap on a board).
"""

from . import (  # noqa: I001 - the package's shared half, complete before this module loads
    ACTION_OFF,
    ACTION_ON,
    CAUSE_BUTTON,
    CAUSE_HUB,
    CAUSE_WEB,
    DEVICE_HELLO,
    HEARTBEAT_PING,
    HEARTBEAT_PONG,
    HUB_WELCOME,
    LIGHTS_ADAPTIVE,
    LIGHTS_FLASH,
    LOG_BATCH,
    MAX_LOG_LINE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    MESSAGE_REJECT,
    MODE_LOCAL,
    MODE_REMOTE,
    OTA_CONFIRMED,
    OTA_DOWNLOADING,
    OTA_FAILED,
    OTA_OFFER,
    OTA_PROGRESS,
    OTA_REBOOTING,
    OTA_RESULT,
    OTA_ROLLED_BACK,
    OTA_VERIFYING,
    PROTOCOL_VERSION,
    STATE_REPORT,
    STATE_SET,
    _VALIDATORS,
    _check_int,
    _check_lights,
    _check_text,
    _fail,
    _require,
    envelope,
    normalize_pairing_code,
)

# The state fields' names (the package's private const() values, which a .mpy does not export).
_BRIGHTNESS = "brightness"
_KELVIN = "color_temp_kelvin"
_RGB = "rgb"

# Names only the hub uses (moved from the package's __init__ to keep them off a board's heap).
MAX_LOG_LINES = 32  # lines per log.batch
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
HUB_FIRMWARE_PATH = "/device/firmware/"  # + <job id>: the image, Range requests allowed
DEVICE_MESSAGE_TYPES = (DEVICE_HELLO, STATE_REPORT, HEARTBEAT_PING, LOG_BATCH, OTA_PROGRESS, OTA_RESULT)
OTA_PROGRESS_STATES = (OTA_DOWNLOADING, OTA_VERIFYING, OTA_REBOOTING)
OTA_RESULT_STATUSES = (OTA_CONFIRMED, OTA_FAILED, OTA_ROLLED_BACK)
MODES = (MODE_LOCAL, MODE_REMOTE)
ERROR_UNKNOWN_LIGHT = "unknown_light"
ERROR_WRONG_DEVICE = "wrong_device"
CAUSE_HA = "ha"  # Home Assistant, through the hub
CAUSE_ADAPTIVE = "adaptive"  # the hub's adaptive lighting (sent with hold)
CAUSES = (CAUSE_HUB, CAUSE_HA, CAUSE_ADAPTIVE, CAUSE_BUTTON, CAUSE_WEB)


def adaptive_capable(lights_capability):
    """True when a peer with this lights capability takes hold, stop, cause and manual."""
    return lights_capability >= LIGHTS_ADAPTIVE


# What a reported light means for the hub (docs/protocol.md, "Versions and conflicts").
REPORT_APPLIED = "applied"  # the device runs the desired version: store it as reported
REPORT_STALE = "stale"  # the device is behind: send the desired state again
REPORT_AHEAD = "ahead"  # the device has a newer version than the hub knows (hub restored)
REPORT_LOCAL_CHANGE = "local_change"  # changed on the device: becomes the new desired state
REPORT_CONFLICT = "conflict"  # changed on both sides while apart: the hub's state wins


def light_state(on, brightness=None, color_temp_kelvin=None, rgb=None):
    """Return a light's state object: on, and the fields given (brightness, colour temperature, rgb)."""
    state = {"on": bool(on)}
    if brightness is not None:
        state[_BRIGHTNESS] = brightness
    if color_temp_kelvin is not None:
        state[_KELVIN] = color_temp_kelvin
    if rgb is not None:
        state[_RGB] = list(rgb)
    return state


def control_query(room, light, state, version=None, transition_ms=None):
    """The /control_led query for a state (the hub's LAN push): action, version, the state's fields."""
    query = {"room": room, "light": light, "action": ACTION_ON if state["on"] else ACTION_OFF}
    if version is not None:
        query["version"] = str(version)
    if _BRIGHTNESS in state:
        query[_BRIGHTNESS] = str(state[_BRIGHTNESS])
    if _KELVIN in state:
        query["color_temp"] = str(state[_KELVIN])
    if _RGB in state:
        query[_RGB] = ",".join([str(value) for value in state[_RGB]])
    if transition_ms:
        query["transition_ms"] = str(transition_ms)
    return query


def entry_query(entry):
    """The /control_led query of a state.set entry (the hub's LAN push), its adaptive fields and flash too."""
    query = control_query(
        entry["room"], entry["light"], entry["state"], entry["version"], entry.get("transition_ms")
    )
    for name in ("hold", "stop"):
        if entry.get(name):
            query[name] = "1"
    if entry.get("cause") is not None:
        query["cause"] = entry["cause"]
    if entry.get("flash_ms"):
        query["flash_ms"] = str(entry["flash_ms"])
    return query


def flash_capable(lights_capability):
    """True when a peer with this lights capability blinks a light for a state.set's flash_ms."""
    return lights_capability >= LIGHTS_FLASH


def classify_report(desired_version, entry, held=False):
    """Decide what one reported light means, given the hub's desired version for it.

    held: the desired state is a held target (adaptive lighting), which a device's change beats.
    """
    version = entry["version"]
    if entry.get("changed"):
        return REPORT_LOCAL_CHANGE if version >= desired_version or held else REPORT_CONFLICT
    if version == desired_version:
        return REPORT_APPLIED
    return REPORT_AHEAD if version > desired_version else REPORT_STALE


def build_hub_welcome(device_id, heartbeat_interval, lights, capabilities=None):
    """Hub -> device, answer to device.hello: the desired state of every light it drives.

    capabilities: protocol.capabilities() from a hub that knows rich lights (absent: on/off).
    """
    data = {
        "device_id": device_id,
        "protocol": PROTOCOL_VERSION,
        "heartbeat_interval": heartbeat_interval,
        "lights": lights,
    }
    if capabilities is not None:
        data["capabilities"] = capabilities
    return envelope(HUB_WELCOME, data)


def build_state_set(lights):
    """Hub -> device: desired states, each with its version."""
    return envelope(STATE_SET, {"lights": lights})


def build_heartbeat_pong():
    """Hub -> device: answer to heartbeat.ping."""
    return envelope(HEARTBEAT_PONG, {})


def build_message_reject(code, reason, ref=None):
    """Hub -> device: the message could not be accepted, and why."""
    return envelope(MESSAGE_REJECT, {"code": code, "reason": reason, "ref": ref})


def check_pair_request(body):
    """Hub side: validate a pairing request; return it with the code normalized."""
    if not isinstance(body, dict):
        _fail("the body must be a JSON object")
    result = {"code": normalize_pairing_code(_require(body, "code")), "name": None, "board": None}
    for key in ("name", "board"):
        if body.get(key) is not None:
            result[key] = _check_text(body[key], key, MAX_NAME_LENGTH)
    return result


def build_ota_offer(job, url, manifest, signature=None, force=False, version=None, board=None):
    """Hub -> device: install this image; url (absolute, or a path on the hub) serves it with Range.

    version and board (the hub's assertion) go with a content manifest only, which binds neither.
    """
    data = {"job": job, "url": url, "manifest": manifest, "signature": signature, "force": bool(force)}
    if version is not None:
        data["version"] = version
    if board is not None:
        data["board"] = board
    return envelope(OTA_OFFER, data)


def _check_ota_progress(data):
    _check_int(_require(data, "job"), "job", 1)
    if _require(data, "state") not in OTA_PROGRESS_STATES:
        _fail("state must be one of " + ", ".join(OTA_PROGRESS_STATES))
    _check_int(_require(data, "received"), "received")
    _check_int(_require(data, "size"), "size")
    return data


def _check_ota_result(data):
    _check_int(_require(data, "job"), "job", 1)
    if _require(data, "status") not in OTA_RESULT_STATUSES:
        _fail("status must be one of " + ", ".join(OTA_RESULT_STATUSES))
    if data.get("reason") is not None:
        _check_text(data["reason"], "reason", MAX_NAME_LENGTH)
    if data.get("detail") is not None:
        _check_text(data["detail"], "detail", MAX_TEXT_LENGTH, allow_empty=True)
    if data.get("version") is not None:
        _check_text(data["version"], "version", MAX_NAME_LENGTH)
    if data.get("boot_slot") is not None:
        _check_int(data["boot_slot"], "boot_slot")
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


def _check_log_batch(data):
    lines = _require(data, "lines")
    if not isinstance(lines, list) or len(lines) > MAX_LOG_LINES:
        _fail("lines must be a list of at most " + str(MAX_LOG_LINES))
    for line in lines:
        if not isinstance(line, dict):
            _fail("each log line must be an object")
        _check_int(_require(line, "seq"), "seq")
        _check_int(_require(line, "uptime"), "uptime")
        if _require(line, "level") not in LOG_LEVELS:
            _fail("level must be one of " + ", ".join(LOG_LEVELS))
        _check_text(_require(line, "text"), "text", MAX_LOG_LINE_LENGTH, allow_empty=True)
    _check_int(data.get("dropped", 0), "dropped")
    return data


_VALIDATORS[DEVICE_HELLO] = _check_device_hello
_VALIDATORS[STATE_REPORT] = _check_lights
_VALIDATORS[HEARTBEAT_PING] = _check_heartbeat_ping
_VALIDATORS[LOG_BATCH] = _check_log_batch
_VALIDATORS[OTA_PROGRESS] = _check_ota_progress
_VALIDATORS[OTA_RESULT] = _check_ota_result
