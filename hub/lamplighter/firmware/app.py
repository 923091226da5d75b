"""The Device: wires hardware, config, light store, web server and hub link; run() serves forever."""

import sys

from . import config as config_module
from . import protocol, storage, watchdog
from .buttons import POLL_INTERVAL_MS, ButtonWatcher
from .compat import (
    asyncio,
    const,
    join_path,
    path_exists,
    sleep_ms,
    ticks_ms,
    tls_context,
    token_hex,
    wait_for,
)
from .hub_client import HubClient
from .log import Logger
from .ota_agent import OtaAgent
from .state import LightStore, light_key
from .supervisor import Supervisor
from .web import create_app
from .wifi import WifiSupervisor

FIRMWARE_VERSION = "0.1.0"
RUNTIME = sys.implementation.name  # "micropython" on a board and the unix port, "cpython" in the simulator
_STATE_FILE = const("state.json")
_LAN_TOKEN_FILE = const("lan_token")  # noqa: S105 - a file name, not a secret


class _PinOutputs:
    """The output of a config with on/off lights only: one plain pin each, no PWM or fades."""

    def __init__(self, hal):
        self.hal = hal

    def drive(self, key, item, state, transition_ms=0):
        """Set the light's pin (as light_output.LightOutputs.drive does for an on/off light)."""
        if item.get("pin") is not None:
            self.hal.pin_set(item["pin"], state["on"])


def _outputs(hal, lights):
    # The fade and PWM machinery (~1.3 KB of heap) is imported only when a light needs it.
    for item in lights:
        if item.get("kind", protocol.KIND_ONOFF) != protocol.KIND_ONOFF:
            from .light_output import LightOutputs

            return LightOutputs(hal)
    return _PinOutputs(hal)


class Device:
    """One light controller; the same object runs on an ESP32 and in the simulator."""

    def __init__(self, hal, config=None, log=None, hub_options=None):
        self.hal = hal
        self.config = config if config is not None else config_module.load(hal.flash_root)
        self.log = log or Logger(self.config["device_id"], hal)
        self.log.add_secret(self.config["secret"])
        self.supervisor = Supervisor(self.log, self._give_up)
        if self.config.get("wifi"):
            self.log.add_secret(self.config["wifi"].get("password"))
        self.outputs = _outputs(hal, self.config["lights"])
        self.store = LightStore(
            join_path(hal.flash_root, _STATE_FILE), self.config["lights"], self.outputs, hal.ticks_ms
        )
        if not self.store.load() and self.store.load_error:
            self.log.error(self.store.load_error + "; starting from the configured lights")
        self.store.restore_outputs()
        self.store.on_flash = self._flash_started
        self._flashing = None  # the task that runs the store's flashes, while one runs
        # The token the hub uses on this device's web server: made once, kept on flash.
        path = join_path(hal.flash_root, _LAN_TOKEN_FILE)
        try:
            token = storage.read_text(path)
        except OSError:
            token = None
        if not token or len(token) < 16:
            token = token_hex(24)
            storage.write_text(path, token)
        self.lan_token = token
        self.log.add_secret(token)
        # TLS for https hubs: verified against ca.pem on flash when there is one.
        ssl = None
        if any(url.startswith("https://") for url in self.config["hubs"]):
            ca_path = join_path(hal.flash_root, config_module.CA_FILE)
            try:
                ssl = tls_context(ca_path if path_exists(ca_path) else None)
            except (ValueError, OSError) as error:
                self.log.error("TLS to the hub is not possible: " + str(error))
        self.hub = HubClient(self.config, self.store, hal, self.log, self._hello_fields, ssl=ssl)
        for name in hub_options or {}:
            setattr(self.hub, name, hub_options[name])
        self.wifi = WifiSupervisor(hal, self.config.get("wifi"), self.log, self._wifi_changed)
        self.buttons = ButtonWatcher()
        self.ota = OtaAgent(self, FIRMWARE_VERSION)
        self.hub.on_message = self._hub_message
        self.hub.on_welcome = self.ota.on_welcome
        self.web = create_app(self)
        self.web_error = None
        self.restart_requested = False
        self._stop = None

    def _wifi_changed(self, connected):
        if not connected:
            self.hub.link_lost()

    def _hello_fields(self):
        return {
            "firmware_version": self.ota.running_version(),
            "lan_url": self.config.get("lan_url"),
            "lan_token": self.lan_token,
            "boot_slot": self.ota.boot_slot(),
        }

    def _hub_message(self, message):
        """Hub messages beyond lights and heartbeats: OTA offers."""
        if message["type"] == protocol.OTA_OFFER:
            self.ota.handle_offer(message)

    def _flash_started(self, key, flash_ms):
        """A hub's flash began on a light: log it, and step the store's flashes until all end."""
        self.log.info(key + " flash " + str(flash_ms) + " ms")
        if self._flashing is None:
            self._flashing = asyncio.create_task(self._run_flashes())

    async def _run_flashes(self):
        try:
            wait = self.store.flash_step()
            while wait is not None:
                await sleep_ms(wait)
                wait = self.store.flash_step()
        finally:
            self._flashing = None

    # ---- actions (web server, buttons) ------------------------------------------------

    def local_action(self, room, light, action, fields=None, transition_ms=0, cause=protocol.CAUSE_WEB):
        """A person switched a light on the device: apply, persist, report. None if unknown.

        fields: brightness, color_temp_kelvin, rgb; ProtocolError (nothing changed) if bad.
        cause: CAUSE_WEB (the page, /control_led) or CAUSE_BUTTON.
        """
        entry = self.store.local_action(room, light, action, fields, transition_ms, cause)
        if entry is not None:
            self.log.info(room + "/" + light + " " + action + " (" + cause + ")")
            self.hub.notify_changed([light_key(room, light)])
        return entry

    def hub_push(self, room, light, action, version, fields=None, transition_ms=0, adaptive=None):
        """The hub pushed a desired state over the LAN: apply if newer, then report. None if unknown.

        adaptive: the entry's hold, stop and cause (docs/protocol.md, "Adaptive lighting").
        ProtocolError (nothing changed) when the fields are bad for this light.
        """
        record = self.store.get(room, light)
        if record is None:
            return None
        update = dict(fields or {})
        update["on"] = protocol.apply_action(record["state"], action)["on"]
        state = self.store.merged(record, update)
        entry = protocol.light_entry(room, light, state, version, transition_ms=transition_ms, **(adaptive or {}))
        applied, _ = self.store.apply_hub([entry])
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
            "firmware_version": self.ota.running_version(),
            "protocol": protocol.PROTOCOL_VERSION,
            "board": self.config["board"],
            "boot_slot": self.ota.boot_slot(),
            "uptime": self.hal.uptime(),
            "free_memory": self.hal.free_memory(),
            "runtime": RUNTIME,
            "heap": self.hal.heap(),
            "rssi": self.hal.rssi(),
            "wifi": {"connected": self.wifi.connected, "joins": self.wifi.joins, "drops": self.wifi.drops},
            "hub": {
                "connected": hub["connected"],
                "url": hub["url"],
                "transport": hub["transport"],
                "mode": hub["mode"] or protocol.MODE_LOCAL,
            },
            "lights": self.store.summary(),
        }

    # ---- running ----------------------------------------------------------------------

    def press_button(self, pin):
        """A physical button was pressed: toggle every light it is wired to (a local change)."""
        for item in self.config["lights"]:
            if item.get("button") == pin:
                self.local_action(item["room"], item["light"], protocol.ACTION_TOGGLE, cause=protocol.CAUSE_BUTTON)

    async def _watch_buttons(self, pins):
        while True:
            now = ticks_ms()
            for pin in pins:
                if self.buttons.update(pin, self.hal.button_pressed(pin), now):
                    self.press_button(pin)
            await sleep_ms(POLL_INTERVAL_MS)

    def restart(self, reason):
        """The clean restart path: state is already on flash; stop serving, then the board reboots."""
        self.log.warning("restarting: " + reason)
        self.restart_requested = True
        self.stop()

    def _give_up(self, reason):
        """Failures repeat: reboot cleanly rather than run half-alive (the watchdog stops being fed)."""
        self.restart("repeated failures (" + reason + ")")

    async def _serve_web(self):
        web = self.config["web"]
        try:
            await self.web.start_server(web["host"], web["port"])
        except OSError as error:
            if self.web.server is not None:
                raise  # it served before: the supervisor starts it again
            self.web_error = error
            self.log.error("web server cannot listen on port " + str(web["port"]) + ": " + str(error))
            self._stop.set()
            return
        if not self._stop.is_set():
            self.web.server = None
            raise RuntimeError("the web server stopped serving")

    async def _run_fades(self):
        from .light_output import run_fades

        await run_fades(self.outputs)

    async def run(self):
        """Serve the web page and keep the hub link until stop(); OSError if the web server cannot start."""
        self._stop = asyncio.Event()
        if self.ota.boot_fails():
            # Simulator only: this image is marked as one that never comes up; the next boot rolls back.
            self.log.error("firmware " + self.ota.running_version() + " failed to start")
            self.restart_requested = True
            return
        tasks = [asyncio.create_task(self.wifi.run())]
        if self.config["watchdog_timeout"]:
            tasks.append(
                asyncio.create_task(
                    watchdog.feed_forever(self.hal, int(self.config["watchdog_timeout"] * 1000))
                )
            )
        if not isinstance(self.outputs, _PinOutputs):
            tasks.append(asyncio.create_task(self.supervisor.run("fades", self._run_fades)))
        pins = [item["button"] for item in self.config["lights"] if item.get("button") is not None]
        if pins:
            tasks.append(asyncio.create_task(self._watch_buttons(pins)))
        self.log.info(
            "device "
            + self.config["device_id"]
            + " up, "
            + str(len(self.store.order))
            + " lights, firmware "
            + self.ota.running_version()
        )
        web_task = asyncio.create_task(self.supervisor.run("web server", self._serve_web))
        if self.config["hubs"]:
            tasks.append(asyncio.create_task(self.supervisor.run("hub session", self.hub.run)))
        try:
            await self._stop.wait()
        finally:
            if self._flashing is not None:
                tasks.append(self._flashing)
            for task in tasks:
                task.cancel()
                try:
                    await task
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


async def provision(hal, log, board, host="0.0.0.0", port=80, timeout=None):
    """No usable config: open the setup access point and page until paired; the config, or None."""
    from . import provisioning
    from .setup_portal import SetupPortal

    ssid, password = provisioning.access_point_credentials()
    hal.ap_start(ssid, password)
    log.add_secret(password)
    # The one place the access point password is shown: the serial console and the screen.
    line = "setup: join Wi-Fi " + ssid + " password " + password + ", open http://192.168.4.1/"
    print(line)
    hal.display(line)
    try:
        portal = SetupPortal(hal, log, board, host, port, timeout or provisioning.DEFAULT_SETUP_TIMEOUT)
        return await portal.run()
    finally:
        hal.ap_stop()


async def boot(hardware, board):
    """Load the config (or the last good copy); provision when there is none; run until stopped."""
    log = Logger("device", hardware)
    notes = []
    try:
        config = config_module.load(hardware.flash_root, notes)
    except config_module.ConfigError as error:
        log.error(str(error) + "; starting the setup page")
        # A board's page is 0.0.0.0:80 on its own access point; the host layer keeps it on loopback.
        config = await provision(hardware, log, board, *getattr(hardware, "SETUP_ADDRESS", ()))
        if config is None:
            return False
    device = Device(hardware, config)
    for note in notes:
        device.log.warning(note)
    await device.run()
    return device.restart_requested


def main():
    """Board entry point (main.py): run from config.json, or provision first; reboot when asked."""
    from . import hal as hal_module

    hardware = hal_module.create()
    try:  # the board, from the config as it is (checked later): an esp32 unless it says otherwise
        raw = storage.read_json(join_path(hardware.flash_root, config_module.CONFIG_FILE))
    except storage.StorageError:
        raw = None
    board = raw.get("board") if isinstance(raw, dict) else None
    if board not in config_module.BOARDS:
        board = "esp32"
    if board == "m5core2":
        try:
            from .hal.m5core2 import M5Core2Display

            hardware.attach_display(M5Core2Display())
        except Exception as error:  # noqa: BLE001 - no screen must not mean no lights
            print("display: " + repr(error))
    try:
        asyncio.run(boot(hardware, board))
    except Exception as error:  # noqa: BLE001 - anything unexpected: log it, then a clean restart
        print("fatal: " + repr(error))
    # Paired, setup page timed out, restart requested, or a crash: start again from boot.
    hardware.reboot()
