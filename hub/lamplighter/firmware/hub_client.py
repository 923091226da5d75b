"""The device's link to its hub: WebSocket first, HTTP polling as fallback, reconnect with backoff.

Tries the config's hubs in order (first = preferred). Message handling is shared by both
transports; the store decides what applies (protocol.should_apply).
"""

from . import http_client, protocol, ws_client
from .backoff import Backoff
from .compat import asyncio, const, ticks_add, ticks_diff, ticks_ms, wait_for
from .config import TRANSPORT_HTTP, TRANSPORT_WEBSOCKET

_DEFAULT_HEARTBEAT_INTERVAL = const(15)
_HELLO_TIMEOUT = const(10)
_REQUEST_TIMEOUT = const(10)
_LOG_LINES_PER_BATCH = const(4)  # small log.batch messages: each is encoded, framed and masked in one piece
# How often a polling device tries the WebSocket again, and a device on a fallback hub the preferred one.
_UPGRADE_RETRY_INTERVAL = const(60)
_PREFERRED_RETRY_INTERVAL = const(300)
_PRIVATE_PREFIXES = const(("127.", "10.", "192.168.", "169.254.", "localhost", "[::1]", "[fd", "[fe80"))


class AuthError(OSError):
    """The hub refused the device's credentials."""


class SessionEnded(Exception):
    """A session with a hub is over (lost, dead, or time to try a better path)."""


def mode_for_url(url):
    """MODE_LOCAL when the hub address is on a private network, else MODE_REMOTE."""
    host = http_client.parse_url(url)[1].lower()
    if host.endswith(".local"):
        return protocol.MODE_LOCAL
    for prefix in _PRIVATE_PREFIXES:  # MicroPython's startswith takes no tuple
        if host.startswith(prefix):
            return protocol.MODE_LOCAL
    if host.startswith("172."):
        parts = host.split(".")
        if len(parts) > 1 and parts[1].isdigit() and 16 <= int(parts[1]) <= 31:
            return protocol.MODE_LOCAL
    return protocol.MODE_REMOTE


def websocket_url(hub_url):
    """The hub's device WebSocket URL (ws for http hubs, wss for https)."""
    if hub_url.startswith("https://"):
        return "wss://" + hub_url[len("https://") :] + protocol.HUB_WEBSOCKET_PATH
    return "ws://" + hub_url[len("http://") :] + protocol.HUB_WEBSOCKET_PATH


class HubClient:
    """Keeps the device connected to a hub and exchanges protocol messages with it."""

    def __init__(self, config, store, hal, log, hello_fields=None, backoff=None, ssl=None):
        self.config = config
        self.store = store
        self.hal = hal
        self.log = log
        self.hello_fields = hello_fields or (lambda: {})  # lan_url, lan_token, boot_slot
        self.backoff = backoff or Backoff(base=1, cap=60, floor=0.1)
        self.ssl = ssl
        self.auth = http_client.basic_auth(config["device_id"], config["secret"])
        self.heartbeat_interval = _DEFAULT_HEARTBEAT_INTERVAL
        self.hub_lights = 1  # the lights capability of the hub's last welcome (1: on/off only)
        self.hello_timeout = _HELLO_TIMEOUT
        self.upgrade_retry_interval = _UPGRADE_RETRY_INTERVAL
        self.preferred_retry_interval = _PREFERRED_RETRY_INTERVAL
        self.status = {"connected": False, "url": None, "transport": None, "mode": None}
        self.sessions = 0  # completed hello/welcome exchanges, for tests and diagnostics
        self.wifi_wait_interval = 0.5
        self._outbox = []
        self._messages = []  # other device messages (ota.progress, ota.result), sent in order
        self.on_message = None  # called with hub messages this module does not handle (ota.offer)
        self.on_welcome = None  # called after each hello/welcome exchange (OTA confirms there)
        self._wake = asyncio.Event()
        self._last_pong = 0
        self._link_lost = False
        buffer = getattr(log, "buffer", None)
        if buffer is not None:
            buffer.listener = self._wake.set  # new log lines go out without waiting for a heartbeat

    # ---- what the rest of the firmware calls ---------------------------------------------

    def send(self, message):
        """Queue a device message for the hub; it goes out on the current or the next session."""
        self._messages.append(message)
        self._wake.set()

    def queued_messages(self):
        """How many queued messages have not been sent yet."""
        return len(self._messages)

    async def _send_queued(self, deliver):
        while self._messages:
            await deliver(self._messages[0])
            self._messages.pop(0)

    def notify_changed(self, keys):
        """Report these lights (changed locally or applied outside the hub link) as soon as possible."""
        for key in keys:
            if key not in self._outbox:
                self._outbox.append(key)
        self._wake.set()

    def link_lost(self):
        """The network under the hub link went away (Wi-Fi dropped): end the session now."""
        self._link_lost = True
        self._wake.set()

    def take_logs(self):
        """A log.batch with the oldest buffered log lines (None when there are none)."""
        buffer = getattr(self.log, "buffer", None)
        if buffer is None or not buffer.lines:
            return None
        lines, dropped = buffer.take(_LOG_LINES_PER_BATCH)
        if buffer.lines:
            self._wake.set()  # the rest goes in the next batches
        return protocol.build_log_batch([protocol.log_line(*line) for line in lines], dropped)

    def _return_logs(self, batch):
        buffer = getattr(self.log, "buffer", None)
        if buffer is not None and batch is not None:
            data = batch["data"]
            lines = [[line["seq"], line["uptime"], line["level"], line["text"]] for line in data["lines"]]
            buffer.put_back(lines, data["dropped"])

    async def run(self):
        """Connect, serve, reconnect: forever (cancel the task to stop)."""
        try:
            while True:
                while not self.hal.wifi_connected():  # the network first
                    await asyncio.sleep(self.wifi_wait_interval)
                self._link_lost = False
                connected = False
                for index in range(len(self.config["hubs"])):
                    if await self._try_hub(index):
                        connected = True
                        break
                if connected:
                    self.backoff.reset()
                delay = self.backoff.next()
                self.log.info("next hub attempt in " + str(int(delay * 1000)) + " ms")
                await asyncio.sleep(delay)
        finally:
            self._set_status(False, None, None)

    # ---- handling hub messages (both transports) ---------------------------------------

    def handle(self, message):
        """Act on one validated hub message; lights applied are queued for a state.report."""
        message_type = message["type"]
        data = message["data"]
        if message_type == protocol.HUB_WELCOME:
            self.heartbeat_interval = data["heartbeat_interval"]
            self.hub_lights = protocol.lights_capability(data)
            self._queue(self.store.replace(data["lights"]))
        elif message_type == protocol.STATE_SET:
            applied, unknown = self.store.apply_hub(data["lights"])
            if unknown:
                self.log.warning("state.set names lights this device does not drive: " + ", ".join(unknown))
            self._queue(applied)
        elif message_type == protocol.HEARTBEAT_PONG:
            self._last_pong = ticks_ms()
        elif message_type == protocol.MESSAGE_REJECT:
            self.log.warning("hub rejected a message: " + data["code"] + ": " + data["reason"])
        elif self.on_message is not None:
            self.on_message(message)
        for reason in self.store.rejected:  # states from this message the lights could not take
            self.log.warning("hub state refused, light unchanged: " + reason)
        self.store.rejected = []

    def handle_raw(self, raw):
        """Parse and handle one raw hub message; a bad one is logged and dropped."""
        try:
            message = protocol.parse(raw, protocol.HUB_MESSAGE_TYPES)
        except protocol.ProtocolError as error:
            self.log.warning("bad message from the hub: " + error.code + ": " + error.reason)
            return None
        self.handle(message)
        return message

    def hello(self):
        """This device's device.hello, with every light and its changed flag."""
        fields = self.hello_fields()
        return protocol.build_device_hello(
            self.config["device_id"],
            fields.get("firmware_version", "0"),
            self.config["board"],
            self.store.entries(described=True),
            mode=self.status["mode"] or protocol.MODE_LOCAL,
            lan_url=fields.get("lan_url"),
            lan_token=fields.get("lan_token"),
            boot_slot=fields.get("boot_slot"),
            capabilities=protocol.capabilities(),
        )

    def take_report(self):
        """The state.report for every queued light still known (None when nothing is queued)."""
        entries = []
        for key in self._outbox:
            record = self.store.lights.get(key)
            if record is not None:
                entry = self.store.entry(record["room"], record["light"])
                # An older hub (no "lights": 2 in its welcome) gets on/off only.
                entry["state"] = protocol.state_for(entry["state"], self.hub_lights)
                entries.append(entry)
        self._outbox = []
        return protocol.build_state_report(entries) if entries else None

    # ---- sessions ------------------------------------------------------------------------

    async def _try_hub(self, index):
        """Serve one hub until the link ends; True when a hello/welcome exchange happened."""
        url = self.config["hubs"][index]
        self.status["mode"] = mode_for_url(url)
        welcomed_before = self.sessions
        if self.config["transport"] == TRANSPORT_WEBSOCKET:
            try:
                socket = await ws_client.connect(
                    websocket_url(url),
                    {"Authorization": self.auth},
                    _REQUEST_TIMEOUT,
                    self.ssl,
                    protocol.MAX_MESSAGE_BYTES,
                )
            except ws_client.HandshakeError as error:
                if error.status == 401 or error.status == 403:
                    self.log.error("hub " + url + " refused the device credentials")
                    return False
                self.log.warning("no WebSocket at " + url + " (" + str(error) + "), polling over HTTP")
                return await self._guarded(self._poll_session(url, index), url, welcomed_before)
            except (OSError, asyncio.TimeoutError) as error:
                self.log.warning("hub " + url + " unreachable: " + str(error))
                return False
            return await self._guarded(self._ws_session(url, index, socket), url, welcomed_before)
        return await self._guarded(self._poll_session(url, index), url, welcomed_before)

    async def _guarded(self, session, url, welcomed_before):
        try:
            await session
        except AuthError:
            self.log.error("hub " + url + " refused the device credentials")
        except SessionEnded as reason:
            self.log.info("session with " + url + " ended: " + str(reason))
        except (OSError, EOFError, ValueError, asyncio.TimeoutError) as error:
            self.log.warning("lost hub " + url + ": " + str(error))
        finally:
            self._set_status(False, None, None)
        return self.sessions > welcomed_before

    def _set_status(self, connected, url, transport):
        self.status["connected"] = connected
        self.status["url"] = url
        self.status["transport"] = transport

    def _welcomed(self, url, transport):
        self.sessions += 1
        self._last_pong = ticks_ms()
        self._set_status(True, url, transport)
        self.log.info("connected to " + url + " over " + transport)
        if self.on_welcome is not None:
            self.on_welcome()

    def _queue(self, keys):
        if keys:
            self.notify_changed(keys)

    async def _wait_wake(self, seconds):
        """Sleep up to seconds, waking early when something is queued."""
        if not self._outbox and not self._messages and seconds > 0:
            try:
                await wait_for(self._wake.wait(), seconds)
            except asyncio.TimeoutError:
                pass
        self._wake.clear()

    async def _ws_session(self, url, index, socket):
        transport = TRANSPORT_WEBSOCKET
        reader = None
        try:
            self._outbox = []  # the hello carries every light
            await socket.send(protocol.encode(self.hello()))
            await wait_for(self._await_welcome(socket), self.hello_timeout)
            self._welcomed(url, transport)
            reader = asyncio.create_task(self._ws_reader(socket))
            started = ticks_ms()
            next_ping = ticks_ms()
            last_ping = None
            while not reader.done():
                if self._link_lost:
                    raise SessionEnded("the network went away")
                report = self.take_report()
                if report is not None:
                    await socket.send(protocol.encode(report))
                await self._send_queued(lambda message: socket.send(protocol.encode(message)))
                batch = self.take_logs()
                if batch is not None:
                    try:
                        await socket.send(protocol.encode(batch))
                    except OSError:
                        self._return_logs(batch)
                        raise
                now = ticks_ms()
                if ticks_diff(now, next_ping) >= 0:
                    if last_ping is not None and ticks_diff(self._last_pong, last_ping) < 0:
                        raise SessionEnded("no heartbeat.pong within " + str(self.heartbeat_interval) + " s")
                    last_ping = now
                    ping = protocol.build_heartbeat_ping(
                        uptime=self.hal.uptime(), free_memory=self.hal.free_memory(), rssi=self.hal.rssi()
                    )
                    await socket.send(protocol.encode(ping))
                    next_ping = ticks_add(now, self.heartbeat_interval * 1000)
                if index > 0 and ticks_diff(now, started) > self.preferred_retry_interval * 1000:
                    raise SessionEnded("trying the preferred hub again")
                await self._wait_wake(max(0, ticks_diff(next_ping, ticks_ms())) / 1000)
            await reader  # a failure in handling the hub's messages ends the session with it
            raise SessionEnded("the hub closed the connection")
        finally:
            if reader is not None and not reader.done():
                reader.cancel()
            await socket.close()

    async def _await_welcome(self, socket):
        while True:
            raw = await socket.recv()
            if raw is None:
                raise SessionEnded("closed before hub.welcome")
            message = self.handle_raw(raw)
            if message is not None and message["type"] == protocol.HUB_WELCOME:
                return message

    async def _ws_reader(self, socket):
        try:
            while True:
                raw = await socket.recv()
                if raw is None:
                    return
                self.handle_raw(raw)
        except OSError as error:
            self.log.warning("WebSocket error: " + str(error))
        finally:
            self._wake.set()  # let the session loop see the end

    async def _post(self, url, message):
        response = await http_client.post_json(
            url + protocol.HUB_MESSAGES_PATH, message, {"Authorization": self.auth}, _REQUEST_TIMEOUT, self.ssl
        )
        if response.status == 401 or response.status == 403:
            raise AuthError("credentials refused")
        if response.status == 400:
            self.handle_raw(response.body)  # a message.reject: logged
            return []
        if response.status != 200:
            raise http_client.HttpError("hub answered HTTP " + str(response.status))
        replies = response.json().get("replies", [])
        if not isinstance(replies, list):
            raise ValueError("replies must be a list")
        handled = []
        for reply in replies:
            try:
                message = protocol.validate(reply, protocol.HUB_MESSAGE_TYPES)
            except protocol.ProtocolError as error:
                self.log.warning("bad reply from the hub: " + error.code + ": " + error.reason)
                continue
            self.handle(message)
            handled.append(message["type"])
        return handled

    async def _poll(self, url):
        response = await http_client.get(
            url + protocol.HUB_POLL_PATH, {"Authorization": self.auth}, _REQUEST_TIMEOUT, self.ssl
        )
        if response.status == 401 or response.status == 403:
            raise AuthError("credentials refused")
        if response.status != 200:
            raise http_client.HttpError("hub answered HTTP " + str(response.status))
        self.handle_raw(response.body)

    async def _poll_session(self, url, index):
        transport = TRANSPORT_HTTP
        self._outbox = []
        if protocol.HUB_WELCOME not in await self._post(url, self.hello()):
            raise SessionEnded("no hub.welcome in the answer to device.hello")
        self._welcomed(url, transport)
        started = ticks_ms()
        interval_ms = int(self.config["poll_interval"] * 1000)
        next_poll = ticks_add(ticks_ms(), interval_ms)
        while True:
            if self._link_lost:
                raise SessionEnded("the network went away")
            report = self.take_report()
            if report is not None:
                await self._post(url, report)
            await self._send_queued(lambda message: self._post(url, message))
            batch = self.take_logs()
            if batch is not None:
                try:
                    await self._post(url, batch)
                except OSError:
                    self._return_logs(batch)
                    raise
            now = ticks_ms()
            if ticks_diff(now, next_poll) >= 0:
                await self._poll(url)
                next_poll = ticks_add(now, interval_ms)
                continue  # report what the poll applied at once
            elapsed = ticks_diff(now, started)
            if (
                self.config["transport"] == TRANSPORT_WEBSOCKET
                and elapsed > self.upgrade_retry_interval * 1000
            ):
                raise SessionEnded("trying the WebSocket again")
            if index > 0 and elapsed > self.preferred_retry_interval * 1000:
                raise SessionEnded("trying the preferred hub again")
            await self._wait_wake(max(0, ticks_diff(next_poll, ticks_ms())) / 1000)
