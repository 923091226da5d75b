"""The device's own web server (microdot): /control_led, /status and a tiny page; Basic auth on all."""

import binascii
import json

from microdot import Microdot, Request, Response

from . import protocol
from .compat import const, constant_time_equal

_MAX_BODY_BYTES = const(4096)
_REALM_HEADER = const('Basic realm="lamplighter-device", charset="UTF-8"')
_CREDENTIAL_PERSON = const("person")
_CREDENTIAL_HUB = const("hub")

# Small bodies only: a light switch has nothing big to say (microdot answers 413 beyond this).
# The update route streams its body (an image, never held in memory); every other route keeps
# the small limit, checked in authenticate().
_MAX_IMAGE_BYTES = const(4 * 1024 * 1024)
Request.max_content_length = _MAX_IMAGE_BYTES
Request.max_body_length = _MAX_BODY_BYTES


def json_error(status, message):
    """A JSON error response."""
    return Response({"error": message}, status)


def parse_basic(header):
    """(user, password) from an Authorization header, or None."""
    if not header or len(header) > 1024:
        return None
    parts = header.split(" ", 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return None
    try:
        decoded = binascii.a2b_base64(parts[1].strip()).decode("utf-8")
    except (ValueError, UnicodeError):
        return None
    if ":" not in decoded:
        return None
    user, password = decoded.split(":", 1)
    return user, password


def credential_kind(header, device_id, secret, lan_token):
    """The kind of credentials: "person" (the device's own), "hub" (the LAN token), or None."""
    credentials = parse_basic(header)
    if credentials is None:
        return None
    user, password = credentials
    # Both comparisons always run, so timing does not tell which user name exists.
    person = constant_time_equal(user, device_id) & constant_time_equal(password, secret)
    hub = constant_time_equal(user, protocol.HUB_LAN_USER) & constant_time_equal(password, lan_token or "")
    if person and secret:
        return _CREDENTIAL_PERSON
    if hub and lan_token:
        return _CREDENTIAL_HUB
    return None


def _escape(text):
    # Chained, not a loop over a table: a table of pairs is five tuples on the heap from import.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#39;")


def control_params(request):
    """The /control_led fields from the query (GET) or a form/JSON body (POST); ValueError if unreadable."""
    if request.method == "GET":
        return request.args
    content_type = (request.headers.get("Content-Type") or "").lower()
    if content_type.startswith("application/json"):
        body = json.loads(request.body.decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        return body
    if content_type.startswith("application/x-www-form-urlencoded"):
        return request.form or {}
    raise ValueError("send the fields as a query, a form or JSON")


def check_control(params, allow_version):
    """Validate /control_led fields; return (room, light, action, version or None) or raise ProtocolError."""
    room = params.get("room")
    light = params.get("light")
    action = params.get("action")
    protocol.check_name(room, "room")
    protocol.check_name(light, "light")
    if action not in protocol.ACTIONS:
        raise protocol.ProtocolError(protocol.ERROR_BAD_DATA, "action must be one of on, off, toggle")
    version = params.get("version")
    if version is None or not allow_version:
        return room, light, action, None
    if isinstance(version, str):
        if not version.isdigit() or len(version) > 15:
            raise protocol.ProtocolError(protocol.ERROR_BAD_DATA, "version must be a non-negative integer")
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise protocol.ProtocolError(protocol.ERROR_BAD_DATA, "version must be a non-negative integer")
    return room, light, action, version


def light_fields(params):
    """The optional /control_led fields: ({brightness, color_temp_kelvin, rgb}, transition_ms).

    Shape only (ProtocolError naming the field); the light's kind and range are checked when
    the fields are merged into its state.
    """

    def number(value):
        # A query or form value is text: an integer in it becomes an int, anything else stays
        # as it is and fails the protocol's check with the reason that names the field.
        if isinstance(value, str) and 0 < len(value) <= 15 and value.lstrip("-").isdigit():
            return int(value)
        return value

    fields = {}
    brightness = params.get("brightness")
    if brightness is not None:
        fields["brightness"] = number(brightness)
    kelvin = params.get("color_temp")
    if kelvin is not None:
        fields["color_temp_kelvin"] = number(kelvin)
    rgb = params.get("rgb")
    if rgb is not None:
        if isinstance(rgb, str):
            rgb = [number(part.strip()) for part in rgb.split(",")[:4]]
        fields["rgb"] = rgb
    protocol.check_state(dict(fields, on=True))
    transition = params.get("transition_ms")
    return fields, 0 if transition is None else protocol.check_transition(number(transition))


def adaptive_fields(params):
    """hold, stop, cause and flash_ms of a hub's LAN push (protocol.entry_query); ProtocolError if bad."""
    fields = {"cause": params.get("cause")}
    for name in ("hold", "stop"):
        fields[name] = params.get(name) in ("1", True)
    protocol.check_adaptive(fields)
    flash = params.get("flash_ms")
    if flash is not None:
        if isinstance(flash, str) and 0 < len(flash) <= 6 and flash.isdigit():
            flash = int(flash)
        fields["flash_ms"] = protocol.check_flash(flash)
    return fields


def render_page(device):
    """The offline control page: every light with on/off buttons."""
    rows = []
    for light in device.store.summary():
        room = _escape(light["room"])
        name = _escape(light["light"])
        state = "on" if light["on"] else "off"
        if "brightness" in light:
            state += " " + str(light["brightness"] * 100 // 255) + " %"
        buttons = ""
        for action in (protocol.ACTION_ON, protocol.ACTION_OFF):
            buttons += (
                '<form method="post" action="' + protocol.DEVICE_CONTROL_PATH + '">'
                '<input type="hidden" name="room" value="' + room + '">'
                '<input type="hidden" name="light" value="' + name + '">'
                '<input type="hidden" name="action" value="' + action + '">'
                '<input type="hidden" name="next" value="/">'
                '<button type="submit">' + action + "</button></form>"
            )
        rows.append(
            "<tr><td>"
            + room
            + "</td><td>"
            + name
            + "</td><td>"
            + state
            + "</td><td>"
            + buttons
            + "</td></tr>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>'
        + _escape(device.config["name"])
        + "</title>"
        "<style>form{display:inline}td{padding:4px 8px}</style></head><body><h1>"
        + _escape(device.config["name"])
        + "</h1><table><tr><th>Room</th><th>Light</th><th>State</th><th></th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def _same_origin(request):
    # Browsers send Origin on cross-site form posts; refuse them (Basic auth alone is replayed by the browser).
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("Host") or ""
    return origin.split("://", 1)[-1].rstrip("/") == host


def create_app(device):
    """The web application of this device (see docs/protocol.md, "Device web routes")."""
    app = Microdot()

    @app.before_request
    async def authenticate(request):
        """Runs before every route: a person's or the hub's Basic credentials, else 401."""
        if request.content_length > _MAX_BODY_BYTES and request.path != protocol.DEVICE_UPDATE_PATH:
            return json_error(413, "request body larger than " + str(_MAX_BODY_BYTES) + " bytes")
        kind = credential_kind(
            request.headers.get("Authorization"),
            device.config["device_id"],
            device.config["secret"],
            device.lan_token,
        )
        if kind is None:
            return Response({"error": "credentials required"}, 401, {"WWW-Authenticate": _REALM_HEADER})
        request.g.credential = kind
        if request.method == "POST" and not _same_origin(request):
            return json_error(403, "cross-origin request refused")
        return None

    @app.route(protocol.DEVICE_CONTROL_PATH, methods=["GET", "POST"])
    async def control_led(request):
        """Switch one light: a local change, or a versioned push from the hub."""
        try:
            params = control_params(request)
            room, light, action, version = check_control(params, request.g.credential == _CREDENTIAL_HUB)
            fields, transition_ms = light_fields(params)
            if version is None:
                result = device.local_action(room, light, action, fields, transition_ms)
            else:
                result = device.hub_push(room, light, action, version, fields, transition_ms, adaptive_fields(params))
        except protocol.ProtocolError as error:
            return json_error(400, error.reason)
        except (ValueError, TypeError, AttributeError):
            return json_error(400, "the request fields could not be read")
        if result is None:
            return json_error(404, "no light " + room + "/" + light + " on this device")
        if params.get("next") == "/":
            return Response("", 303, {"Location": "/"})
        answer = {"room": room, "light": light}
        answer.update(result["state"])
        answer["version"] = result["version"]
        return answer

    @app.route(protocol.DEVICE_UPDATE_PATH, methods=["POST"])
    async def update_firmware(request):
        """The seed's OTA route: the hub streams a signed image; verified before the boot slot changes."""
        status, body = await device.ota.handle_push(request)
        return Response(body, status)

    @app.route(protocol.DEVICE_STATUS_PATH)
    async def status(request):
        """Who the device is, its hub link and its lights."""
        return device.status_payload()

    @app.route("/")
    async def index(request):
        """The offline control page."""
        return Response(render_page(device), 200, {"Content-Type": "text/html; charset=utf-8"})

    @app.errorhandler(404)
    async def not_found(request):
        """Unknown path: JSON 404."""
        return json_error(404, "not found")

    @app.errorhandler(405)
    async def not_allowed(request):
        """Wrong method: JSON 405."""
        return json_error(405, "method not allowed")

    @app.errorhandler(413)
    async def too_large(request):
        """Body over the limit: JSON 413."""
        return json_error(413, "request body larger than " + str(_MAX_BODY_BYTES) + " bytes")

    @app.errorhandler(Exception)
    async def failed(request, exception):
        """Anything unexpected: counted by the supervisor, answered 400 (503 when out of memory)."""
        device.supervisor.failed("web request", exception)
        if isinstance(exception, MemoryError):
            return json_error(503, "the device is short of memory, try again")
        return json_error(400, "bad request")

    return app
