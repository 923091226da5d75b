"""The setup page of an unconfigured device (microdot): Wi-Fi, hub address, pairing code.

On a board it is served on the device's own access point; in the simulator on loopback. A
valid form joins the Wi-Fi, trades the pairing code at the hub for the device's id and
secret, writes config.json atomically and ends run(). The page closes after a timeout.
"""

from microdot import Microdot, Response

from . import config as config_module
from . import http_client, protocol, provisioning, storage
from .compat import asyncio, const, join_path, path_exists, tls_context, wait_for
from .web import _escape, _same_origin, json_error

_PAIR_TIMEOUT = const(15)

_FORM = const((
    '<!doctype html><html><head><meta charset="utf-8"><title>Lamplighter setup</title>'
    "<style>label{display:block;margin:8px 0}input,textarea{width:100%;max-width:28em}</style>"
    "</head><body><h1>Set up this light controller</h1><p>{error}</p>"
    '<form method="post" action="/setup">'
    '<label>Wi-Fi network <input name="ssid" maxlength="32" value="{ssid}"></label>'
    '<label>Wi-Fi password <input name="password" type="password" maxlength="63"></label>'
    '<label>Hub address <input name="hub" placeholder="http://192.168.1.10:8000" value="{hub}"></label>'
    '<label>Pairing code (from the dashboard) <input name="code" maxlength="9" autocomplete="off"></label>'
    '<label>Name (optional) <input name="name" maxlength="64" value="{name}"></label>'
    '<label>Hub CA certificate, PEM (for an https hub) <textarea name="ca" rows="4"></textarea></label>'
    '<button type="submit">Pair</button></form></body></html>'
))


_FIELDS = ("ssid", "hub", "name")  # kept in the form after an error (never the password)


def form_parts(error="", values=None):
    """The setup form in pieces of a few hundred bytes (a board's heap after a failed pairing
    attempt may not hold the whole page in one piece: MicroPython's unix port under the cap)."""
    values = values or {}
    start = 0
    while True:
        opening = _FORM.find("{", start)
        if opening < 0:
            yield _FORM[start:]
            return
        closing = _FORM.find("}", opening)
        key = _FORM[opening + 1 : closing]
        if key == "error":
            yield _FORM[start:opening]
            yield _escape(error)
        elif key in _FIELDS:
            yield _FORM[start:opening]
            yield _escape(values.get(key) or "")
        else:  # a brace of the style sheet
            yield _FORM[start : closing + 1]
        start = closing + 1


class SetupPortal:
    """Serves the setup page until the device is paired or the timeout passes."""

    def __init__(self, hal, log, board, host="0.0.0.0", port=80, timeout=provisioning.DEFAULT_SETUP_TIMEOUT):
        self.hal = hal
        self.log = log
        self.board = board
        self.host = host
        self.port = port
        self.timeout = timeout
        self.config = None
        self.state = "waiting"
        self.app = self._create_app()
        self._done = asyncio.Event()

    async def pair(self, setup):
        """Join the Wi-Fi, trade the code at the hub, write config.json; return the config."""
        if setup["ssid"] and not await self.hal.wifi_join(setup["ssid"], setup["password"]):
            raise provisioning.SetupError("could not join the Wi-Fi network " + setup["ssid"])
        ssl = None
        if setup["ca"]:
            storage.write_text(join_path(self.hal.flash_root, config_module.CA_FILE), setup["ca"])
        if setup["hub"].startswith("https://"):
            ca_path = join_path(self.hal.flash_root, config_module.CA_FILE)
            ssl = tls_context(ca_path if path_exists(ca_path) else None)
        try:
            response = await http_client.post_json(
                setup["hub"] + protocol.HUB_PAIR_PATH,
                provisioning.pair_request(setup, self.board),
                None,
                _PAIR_TIMEOUT,
                ssl,
            )
        except OSError as error:
            raise provisioning.SetupError("the hub did not answer: " + str(error))
        if response.status == 429:
            raise provisioning.SetupError("too many wrong codes: wait a few minutes, then try again")
        if response.status != 201:
            raise provisioning.SetupError(
                "the hub refused the pairing code (HTTP " + str(response.status) + ")"
            )
        try:
            web = {"host": self.host, "port": self.port}
            config = provisioning.config_from_pairing(setup, response.json(), self.board, web)
        except (ValueError, protocol.ProtocolError) as error:
            raise provisioning.SetupError("the hub's answer is not usable: " + str(error))
        config_module.save(self.hal.flash_root, config)
        return config

    def _create_app(self):
        app = Microdot()
        portal = self

        @app.before_request
        async def same_origin(request):
            """Runs before every route: a POST from another site is refused (no CSRF via the setup page)."""
            if request.method == "POST" and not _same_origin(request):
                return json_error(403, "cross-origin request refused")
            return None

        @app.route("/")
        async def index(request):
            """The setup form."""
            return Response(form_parts(), 200, {"Content-Type": "text/html; charset=utf-8"})

        @app.route("/setup", methods=["POST"])
        async def setup(request):
            """Validate, pair, save; on success the device starts normally."""
            form = request.form or {}
            try:
                fields = provisioning.check_setup_form(form, portal.board)
                portal.config = await portal.pair(fields)
            except provisioning.SetupError as error:
                portal.log.warning("setup failed: " + str(error))
                return Response(
                    form_parts(str(error), form), 400, {"Content-Type": "text/html; charset=utf-8"}
                )
            portal.state = "paired"
            portal.log.info("paired as " + portal.config["device_id"] + "; starting")
            portal._done.set()
            page = "<!doctype html><p>Paired as " + _escape(portal.config["device_id"]) + ". Starting.</p>"
            return Response(page, 200, {"Content-Type": "text/html; charset=utf-8"})

        @app.route("/status")
        async def status(request):
            """Whether the device is still waiting for its setup."""
            return {"state": portal.state, "board": portal.board}

        return app

    async def run(self):
        """Serve until paired (return the config) or the timeout passes (return None)."""
        server = asyncio.create_task(self.app.start_server(self.host, self.port))
        self.log.info("setup page open on port " + str(self.port) + " for " + str(self.timeout) + " s")
        try:
            await wait_for(self._done.wait(), self.timeout)
        except asyncio.TimeoutError:
            self.state = "closed"
            self.log.warning("setup page closed after " + str(self.timeout) + " s without pairing")
        finally:
            await asyncio.sleep(0.2)  # let the last answer reach the browser
            if self.app.server is not None:
                self.app.shutdown()
            try:
                await wait_for(server, 3)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        return self.config
