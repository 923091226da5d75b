"""Provisioning rules: the setup form, the pairing exchange and the config it produces.

Synchronous and pure (proven under MicroPython). The setup page that uses them is
hub/lamplighter/firmware/setup_portal.py; the hub's side is POST protocol.HUB_PAIR_PATH.
"""

from . import config as config_module
from . import protocol
from .compat import const, token_hex

DEFAULT_SETUP_TIMEOUT = 600  # seconds the setup page stays open
AP_SSID_PREFIX = "lamplighter-"
_MAX_CA_BYTES = const(8192)


class SetupError(ValueError):
    """A setup field is missing or invalid; the message is for the person at the form."""


def access_point_credentials():
    """A fresh (ssid, password) for the setup access point: no default password, ever."""
    return AP_SSID_PREFIX + token_hex(2), token_hex(6)


def _field(form, name):
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SetupError(name + " must be text")
    return value.strip()


def check_setup_form(form, board):
    """Validate the setup form; return {ssid, password, hub, code, name, ca} or raise SetupError."""
    ssid = _field(form, "ssid")
    password = form.get("password") or ""
    if not isinstance(password, str) or len(password) > 63:
        raise SetupError("the Wi-Fi password must be at most 63 characters")
    if board != "host" and not 1 <= len(ssid) <= 32:
        raise SetupError("give the Wi-Fi network name (1 to 32 characters)")
    hub = _field(form, "hub").rstrip("/")
    if not (hub.startswith("http://") or hub.startswith("https://")) or len(hub.split("://", 1)[1]) == 0:
        raise SetupError("the hub address must start with http:// or https://")
    if len(hub) > protocol.MAX_TEXT_LENGTH:
        raise SetupError("the hub address is too long")
    try:
        code = protocol.normalize_pairing_code(_field(form, "code"))
    except protocol.ProtocolError as error:
        raise SetupError("pairing " + error.reason)
    name = _field(form, "name")
    if len(name) > protocol.MAX_NAME_LENGTH:
        raise SetupError("the name must be at most " + str(protocol.MAX_NAME_LENGTH) + " characters")
    ca = _field(form, "ca")
    if ca and ("-----BEGIN CERTIFICATE-----" not in ca or len(ca) > _MAX_CA_BYTES):
        raise SetupError("the CA certificate must be PEM text (-----BEGIN CERTIFICATE-----)")
    if hub.startswith("https://") and not ca and board != "host":
        raise SetupError("an https hub needs its CA certificate (PEM) so the device can check it")
    return {"ssid": ssid, "password": password, "hub": hub, "code": code, "name": name or None, "ca": ca}


def pair_request(setup, board):
    """The body of POST HUB_PAIR_PATH for this setup."""
    return protocol.build_pair_request(setup["code"], setup["name"], board)


def config_from_pairing(setup, answer, board, web=None, lights=()):
    """The device's first config.json from the setup and the hub's pairing answer (validated)."""
    protocol.check_pair_response(answer)
    raw = {
        "device_id": answer["device_id"],
        "secret": answer["secret"],
        "name": answer["name"],
        "board": board,
        "hubs": [setup["hub"]],
        "lights": list(lights),
    }
    if setup["ssid"]:
        raw["wifi"] = {"ssid": setup["ssid"], "password": setup["password"]}
    if web is not None:
        raw["web"] = web
    return config_module.validate(raw)
