"""The Device: wires hardware, config, light store, web server and hub link; run() serves forever."""

from firmware import config as config_module
from firmware import protocol, storage
from firmware.compat import asyncio, join_path, token_hex, wait_for
from firmware.hub_client import HubClient
from firmware.log import Logger
from firmware.state import LightStore, light_key
from firmware.web import create_app

FIRMWARE_VERSION = "0.1.0"
STATE_FILE = "state.json"
LAN_TOKEN_FILE = "lan_token"  # noqa: S105 - a file name, not a secret
WIFI_RETRY_SECONDS = 10


class Device:
    """One light controller; the same object runs on an ESP32 and in the simulator."""

    def __init__(self, hal, config=None, log=None, hub_options=None):
        self.hal = hal
        self.config = config if config is not None else config_module.load(hal.flash_root)
        self.log = log or Logger(self.config["device_id"], hal)
        self.log.add_secret(self.config["secret"])
        if self.config.get("wifi"):
            self.log.add_secret(self.config["wifi"].get("password"))
        self.store = LightStore(join_path(hal.flash_root, STATE_FILE), self.config["lights"], hal.pin_set)
        if not self.store.load() and self.store.load_error:
            self.log.error(self.store.load_error + "; starting from the configured lights")
        self.store.restore_outputs()
        self.lan_token = self._lan_token()
        self.log.add_secret(self.lan_token)
        self.hub = HubClient(self.config, self.store, hal, self.log, self._hello_fields)
        for name in hub_options or {}:
            setattr(self.hub, name, hub_options[name])
        self.web = create_app(self)
        self.web_error = None
        self._stop = None

    def _lan_token(self):
        """The token the hub uses on this device's web server: made once, kept on flash."""
        path = join_path(self.hal.flash_root, LAN_TOKEN_FILE)
        try:
            token = storage.read_text(path)
        except OSError:
            token = None
        if not token or len(token) < 16:
            token = token_hex(24)
            storage.write_text(path, token)
        return token

    def _hello_fields(self):
        return {
            "firmware_version": FIRMWARE_VERSION,
            "lan_url": self.config.get("lan_url"),
            "lan_token": self.lan_token,
            "boot_slot": None,
        }

    # ---- actions (web server, buttons) ------------------------------------------------

    def local_action(self, room, light, action):
        """A person switched a light on the device: apply, persist, report. None if unknown."""
        entry = self.store.local_action(room, light, action)
        if entry is not None:
            self.log.info(room + "/" + light + " " + action + " (local)")
            self.hub.notify_changed([light_key(room, light)])
        return entry

    def hub_push(self, room, light, action, version):
        """The hub pushed a desired state over the LAN: apply if newer, then report. None if unknown."""
        record = self.store.get(room, light)
        if record is None:
            return None
        state = protocol.apply_action(record["state"], action)
        applied, _ = self.store.apply_hub([protocol.light_entry(room, light, state, version)])
        if applied:
            self.log.info(room + "/" + light + " " + action + " v" + str(version) + " (LAN push)")
            self.hub.notify_changed(applied)
        return self.store.entry(room, light)

    def status_payload(self):
        """What GET /status answers."""
        hub = self.hub.status
        return {
            "device_id": self.config["device_id"],
            "name": self.config["name"],
            "firmware_version": FIRMWARE_VERSION,
            "protocol": protocol.PROTOCOL_VERSION,
            "board": self.config["board"],
            "boot_slot": None,
            "uptime": self.hal.uptime(),
            "free_memory": self.hal.free_memory(),
            "rssi": self.hal.rssi(),
            "hub": {
                "connected": hub["connected"],
                "url": hub["url"],
                "transport": hub["transport"],
                "mode": hub["mode"] or protocol.MODE_LOCAL,
            },
            "lights": self.store.summary(),
        }

    # ---- running ----------------------------------------------------------------------

    async def _join_wifi(self):
        wifi = self.config.get("wifi")
        while not self.hal.wifi_connected():
            ssid = wifi["ssid"] if wifi else None
            password = wifi["password"] if wifi else None
            if await self.hal.wifi_join(ssid, password):
                return
            self.log.warning("Wi-Fi not joined, retrying in " + str(WIFI_RETRY_SECONDS) + " s")
            await asyncio.sleep(WIFI_RETRY_SECONDS)

    async def _serve_web(self):
        web = self.config["web"]
        try:
            await self.web.start_server(web["host"], web["port"])
        except OSError as error:
            self.web_error = error
            self.log.error("web server cannot listen on port " + str(web["port"]) + ": " + str(error))
            self._stop.set()

    async def run(self):
        """Serve the web page and keep the hub link until stop(); OSError if the web server cannot start."""
        self._stop = asyncio.Event()
        await self._join_wifi()
        self.log.info(
            "device "
            + self.config["device_id"]
            + " up, "
            + str(len(self.store.order))
            + " lights, firmware "
            + FIRMWARE_VERSION
        )
        web_task = asyncio.create_task(self._serve_web())
        hub_task = asyncio.create_task(self.hub.run()) if self.config["hubs"] else None
        try:
            await self._stop.wait()
        finally:
            if hub_task is not None:
                hub_task.cancel()
                try:
                    await hub_task
                except asyncio.CancelledError:
                    pass
            if self.web.server is not None:
                self.web.shutdown()
            try:
                await wait_for(web_task, 3)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        if self.web_error is not None:
            raise self.web_error

    def stop(self):
        """Ask run() to return (safe from a signal handler or another task)."""
        if self._stop is not None:
            self._stop.set()


def main():
    """Board entry point (main.py): load config.json from flash and run forever."""
    from firmware import hal as hal_module

    hardware = hal_module.create()
    try:
        device = Device(hardware)
    except config_module.ConfigError as error:
        print(str(error))
        hardware.display(str(error))
        return
    asyncio.run(device.run())
