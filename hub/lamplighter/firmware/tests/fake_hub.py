"""A small fake hub for the hub-client tests: the real protocol, a dict for a database.

WebSocket mode uses the `websockets` library (an independent implementation); polling mode is
a raw asyncio HTTP server that refuses the WebSocket path with 404, as a hub behind a proxy
without upgrade support would.
"""

import asyncio
import base64
import json

from websockets.asyncio.server import serve

from .. import protocol


class FakeHub:
    """Desired states per light, the device's credentials, and a log of what arrived."""

    def __init__(self, device_id, secret, heartbeat_interval=1, lights=None):
        self.device_id = device_id
        self.secret = secret
        self.heartbeat_interval = heartbeat_interval
        # (room, light) -> [on, version]
        self.desired = dict(lights or {})
        self.received = []
        self.connections = 0
        self.refusals = 0
        self.answer_pings = True
        self.capabilities = None  # protocol.capabilities() plays a hub that knows light kinds
        self.polls = 0
        self.sockets = []
        self._server = None
        self.port = None

    # ---- protocol --------------------------------------------------------------------

    def entries(self, keys=None):
        keys = keys if keys is not None else sorted(self.desired)
        return [
            protocol.light_entry(
                room,
                light,
                protocol.light_state(self.desired[(room, light)][0]),
                self.desired[(room, light)][1],
            )
            for room, light in keys
        ]

    def welcome(self):
        return protocol.build_hub_welcome(
            self.device_id, self.heartbeat_interval, self.entries(), self.capabilities
        )

    def set_desired(self, room, light, on):
        """Like the hub's light_command_apply: next version; returns the state.set to deliver."""
        current = self.desired.get((room, light), [False, 0])
        self.desired[(room, light)] = [on, current[1] + 1]
        return protocol.build_state_set(self.entries([(room, light)]))

    def _apply_reports(self, lights):
        resend = []
        for entry in lights:
            key = (entry["room"], entry["light"])
            if key not in self.desired:
                continue
            outcome = protocol.classify_report(self.desired[key][1], entry)
            if outcome == protocol.REPORT_LOCAL_CHANGE:
                self.desired[key] = [entry["state"]["on"], max(self.desired[key][1], entry["version"]) + 1]
                resend.append(key)
            elif outcome == protocol.REPORT_AHEAD:
                self.desired[key][1] = entry["version"] + 1
                resend.append(key)
            elif outcome in (protocol.REPORT_CONFLICT, protocol.REPORT_STALE):
                resend.append(key)
        return resend

    def handle(self, raw):
        """Replies to one device message (what devices.handlers does on the real hub)."""
        try:
            message = protocol.parse(raw, protocol.DEVICE_MESSAGE_TYPES)
        except protocol.ProtocolError as error:
            return [protocol.build_message_reject(error.code, error.reason)], False
        self.received.append(message)
        message_type = message["type"]
        if message_type == protocol.DEVICE_HELLO:
            self._apply_reports(message["data"]["lights"])
            return [self.welcome()], True
        if message_type == protocol.STATE_REPORT:
            resend = self._apply_reports(message["data"]["lights"])
            return ([protocol.build_state_set(self.entries(resend))] if resend else []), True
        if message_type == protocol.LOG_BATCH:
            return [], True
        if not self.answer_pings:
            return [], True
        return [protocol.build_heartbeat_pong()], True

    def of_type(self, message_type):
        return [message for message in self.received if message["type"] == message_type]

    def authorized(self, header):
        expected = "Basic " + base64.b64encode((self.device_id + ":" + self.secret).encode()).decode()
        return header == expected

    # ---- WebSocket mode ------------------------------------------------------------------

    async def _ws_handler(self, connection):
        self.connections += 1
        self.sockets.append(connection)
        try:
            async for raw in connection:
                replies, _ = self.handle(raw)
                for reply in replies:
                    await connection.send(protocol.encode(reply))
        except Exception:  # noqa: S110 - the device went away
            pass

    def _process_request(self, connection, request):
        if request.path != protocol.HUB_WEBSOCKET_PATH:
            return connection.respond(404, "Not found\n")
        if not self.authorized(request.headers.get("Authorization")):
            self.refusals += 1
            return connection.respond(403, "Forbidden\n")
        return None

    async def start_websocket(self, port=0):
        self._server = await serve(
            self._ws_handler, "127.0.0.1", port, process_request=self._process_request, ping_interval=None
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def push(self, message):
        """Send a hub message to every open device socket."""
        for connection in list(self.sockets):
            try:
                await connection.send(protocol.encode(message))
            except Exception:  # noqa: S110
                pass

    async def drop_connections(self):
        for connection in list(self.sockets):
            await connection.close()
        self.sockets = []

    # ---- polling mode -------------------------------------------------------------------------

    async def _http_handler(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, answer = self._http_route(method, path, headers, body)
            payload = json.dumps(answer).encode()
            # Chunked on purpose: the device's client must read both framings.
            writer.write(
                (
                    "HTTP/1.1 " + str(status) + " X\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                ).encode()
                + format(len(payload), "x").encode()
                + b"\r\n"
                + payload
                + b"\r\n0\r\n\r\n"
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def _http_route(self, method, path, headers, body):
        if path == protocol.HUB_WEBSOCKET_PATH:
            return 404, {"error": "no websocket here"}
        if not self.authorized(headers.get("authorization")):
            self.refusals += 1
            return 401, {"error": "device credentials required"}
        if method == "GET" and path == protocol.HUB_POLL_PATH:
            self.polls += 1
            return 200, self.welcome()
        if method == "POST" and path == protocol.HUB_MESSAGES_PATH:
            replies, accepted = self.handle(body)
            return (200, {"replies": replies}) if accepted else (400, replies[0])
        return 404, {"error": "not found"}

    async def start_polling(self, port=0):
        self._server = await asyncio.start_server(self._http_handler, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    # ---- both -----------------------------------------------------------------------------------

    @property
    def url(self):
        return "http://127.0.0.1:" + str(self.port)

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await self.drop_connections()
            await self._server.wait_closed()
            self._server = None
