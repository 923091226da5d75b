"""The device configuration (config.json on flash): load, validate with clear errors, save.

Every save writes config.json and then a last-good copy (config.bak), each atomically (temp
file + rename), so a power cut leaves at least one valid file. load() falls back to the copy
when config.json is corrupt or invalid, and reports that it did.
"""

from . import protocol
from .compat import const, join_path, path_exists
from .storage import StorageError, read_json, write_json

CONFIG_FILE = "config.json"
BACKUP_FILE = "config.bak"
CA_FILE = "ca.pem"
DEFAULT_WATCHDOG_TIMEOUT = 30
BOARDS = ("host", "esp32", "m5core2")
TRANSPORT_WEBSOCKET = "websocket"
TRANSPORT_HTTP = "http"
TRANSPORTS = (TRANSPORT_WEBSOCKET, TRANSPORT_HTTP)
DEFAULT_POLL_INTERVAL = 5
_DEFAULT_WEB_PORT = const(80)
_MAX_HUBS = const(8)
_MAX_PIN = const(63)


def channels(kind):
    """The channel names of a light kind driven by several pins (config "pins"); None for one pin."""
    if kind == protocol.KIND_TUNABLE_WHITE:
        return ("cold", "warm")
    if kind == protocol.KIND_RGB:
        return ("r", "g", "b")
    return None


class ConfigError(ValueError):
    """The configuration is missing, corrupt or invalid; the message says what to fix."""


def _fail(reason):
    raise ConfigError("config: " + reason)


def _text(raw, key, required=True, limit=protocol.MAX_TEXT_LENGTH):
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        _fail(key + " must be a string of 1 to " + str(limit) + " characters")
    return value


def _number(value, key, minimum, maximum):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
        _fail(key + " must be a number from " + str(minimum) + " to " + str(maximum))
    return value


def _hubs(raw):
    hubs = raw.get("hubs")
    if not isinstance(hubs, list) or len(hubs) > _MAX_HUBS:
        _fail("hubs must be a list of at most " + str(_MAX_HUBS) + " http(s) URLs")
    for url in hubs:
        if not isinstance(url, str) or not (url.startswith("http://") or url.startswith("https://")):
            _fail("each hub must be an http:// or https:// URL")
        if len(url.split("://", 1)[1].split("/", 1)[0]) == 0:
            _fail("hub URL has no host: " + url)
    return [url.rstrip("/") for url in hubs]


def _lights(raw):
    lights = raw.get("lights", [])
    if not isinstance(lights, list) or len(lights) > protocol.MAX_LIGHTS:
        _fail("lights must be a list of at most " + str(protocol.MAX_LIGHTS))
    seen = set()
    result = []
    for item in lights:
        if not isinstance(item, dict):
            _fail("each light must be an object with room, light and pin")
        try:
            room = protocol.check_name(item.get("room"), "room")
            light = protocol.check_name(item.get("light"), "light")
        except protocol.ProtocolError as error:
            _fail("light " + error.reason)
        button = item.get("button")
        if button is not None:
            _number(button, "button", 0, _MAX_PIN)
        if (room, light) in seen:
            _fail("light " + room + "/" + light + " is listed twice")
        seen.add((room, light))
        entry = _outputs(item, "light " + room + "/" + light)
        entry["room"] = room
        entry["light"] = light
        if button is not None:
            entry["button"] = button
        result.append(entry)
    used = []
    for entry in result:
        for pin in [entry["pin"]] + list((entry.get("pins") or {}).values()):
            if pin is not None and pin in used:
                _fail("output pin " + str(pin) + " is used twice")
            used.append(pin)
    return result


def _outputs(item, name):
    # A light's kind and output pins: "pin" (onoff, dimmable) or "pins" (one per channel), and
    # the colour-temperature range of a tunable-white light.
    kind = item.get("kind", protocol.KIND_ONOFF)
    if kind not in protocol.LIGHT_KINDS:
        _fail(name + ": kind must be one of " + ", ".join(protocol.LIGHT_KINDS))
    entry = {"kind": kind, "pin": item.get("pin")}
    names = channels(kind)
    if names is None:
        if item.get("pins") is not None:
            _fail(name + ": a light of kind " + kind + ' has one output, "pin", not "pins"')
        if entry["pin"] is not None:
            _number(entry["pin"], name + " pin", 0, _MAX_PIN)
    else:
        if entry["pin"] is not None:
            _fail(name + ": a light of kind " + kind + ' takes "pins": {"' + '", "'.join(names) + '"}')
        pins = item.get("pins")
        if pins is not None:
            if not isinstance(pins, dict) or sorted(pins) != sorted(names):
                _fail(name + ': "pins" must be an object with ' + ", ".join(names))
            for channel in names:
                if isinstance(pins[channel], float):
                    _fail(name + " pins." + channel + " must be a whole number")
                _number(pins[channel], name + " pins." + channel, 0, _MAX_PIN)
            entry["pins"] = dict(pins)
    kelvin = item.get("kelvin")
    if kind == protocol.KIND_TUNABLE_WHITE:
        try:
            entry["kelvin"] = protocol.check_kelvin_range(
                protocol.DEFAULT_KELVIN_RANGE if kelvin is None else kelvin
            )
        except protocol.ProtocolError as error:
            _fail(name + ": " + error.reason)
    elif kelvin is not None:
        _fail(name + ': "kelvin" is for tunable_white lights only')
    return entry


def validate(raw):
    """Return a complete config (defaults filled in) from decoded JSON, or raise ConfigError."""
    if not isinstance(raw, dict):
        _fail("the file must hold a JSON object")
    config = {
        "device_id": _text(raw, "device_id", limit=protocol.MAX_NAME_LENGTH),
        "secret": _text(raw, "secret"),
        "name": _text(raw, "name", required=False, limit=protocol.MAX_NAME_LENGTH),
        "board": raw.get("board", "host"),
        "hubs": _hubs(raw),
        "lan_url": _text(raw, "lan_url", required=False),
        "transport": raw.get("transport", TRANSPORT_WEBSOCKET),
        "poll_interval": _number(
            raw.get("poll_interval", DEFAULT_POLL_INTERVAL), "poll_interval", 0.05, 3600
        ),
        "lights": _lights(raw),
        "watchdog_timeout": _number(
            raw.get("watchdog_timeout", DEFAULT_WATCHDOG_TIMEOUT), "watchdog_timeout", 0, 3600
        ),
    }
    config["name"] = config["name"] or config["device_id"]
    if config["board"] not in BOARDS:
        _fail("board must be one of " + ", ".join(BOARDS))
    if config["transport"] not in TRANSPORTS:
        _fail("transport must be websocket or http")
    wifi = raw.get("wifi")
    if wifi is not None:
        if not isinstance(wifi, dict):
            _fail("wifi must be an object with ssid and password")
        wifi = {
            "ssid": _text(wifi, "ssid", limit=32),
            "password": wifi.get("password") or "",
            "power_save": wifi.get("power_save", False),
        }
        if not isinstance(wifi["password"], str):
            _fail("wifi.password must be a string")
        if not isinstance(wifi["power_save"], bool):
            _fail("wifi.power_save must be true or false")
    elif config["board"] != "host":
        _fail("wifi is required on a real board")
    config["wifi"] = wifi
    web = raw.get("web", {})
    if not isinstance(web, dict):
        _fail("web must be an object with host and port")
    config["web"] = {
        "host": web.get("host", "0.0.0.0"),
        "port": _number(web.get("port", _DEFAULT_WEB_PORT), "web.port", 0, 65535),
    }
    if not isinstance(config["web"]["host"], str):
        _fail("web.host must be a string")
    return config


def _load_file(path):
    try:
        raw = read_json(path)
    except StorageError as error:
        raise ConfigError("config: " + str(error))
    if raw is None:
        raise ConfigError("config: " + path + " does not exist")
    return raw, validate(raw)


def load(folder, notes=None):
    """Read and validate config.json in this flash folder; ConfigError says what is wrong.

    A corrupt or invalid config.json is replaced by the last good copy when there is one
    (a line saying so is appended to `notes`); only when both fail does it raise.
    """
    path = join_path(folder, CONFIG_FILE)
    try:
        return _load_file(path)[1]
    except ConfigError as error:
        primary_error = error
    if not path_exists(join_path(folder, BACKUP_FILE)):
        raise primary_error
    try:
        raw, config = _load_file(join_path(folder, BACKUP_FILE))
    except ConfigError:
        raise primary_error
    write_json(path, raw)  # repair config.json from the last good copy
    if notes is not None:
        notes.append(str(primary_error) + "; restored the last good copy")
    return config


def save(folder, config):
    """Validate and write config.json, then its last-good copy, each atomically."""
    validate(config)
    write_json(join_path(folder, CONFIG_FILE), config)
    write_json(join_path(folder, BACKUP_FILE), config)


def exists(folder):
    """True when the flash holds a config file (valid or not) or its last good copy."""
    return path_exists(join_path(folder, CONFIG_FILE)) or path_exists(join_path(folder, BACKUP_FILE))
