"""The seed's /lights_status/ poll, answered straight from ASGI.

It is the hub's hottest HTTP route (every polling device, every few seconds) and needs none
of what Django's middleware stack gives browsers (sessions, CSRF, messages, static files).
Through that stack a request hops between the event loop and worker threads several times
(WhiteNoise is sync-only); here it takes one hop: authenticate, record contact, read the
desired states, in one database_sync_to_async call. The Django view in devices.views gives
the same answer for the same request (the tests check both).
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.http.request import split_domain_port, validate_host

from devices import services
from devices.auth import THROTTLED, address_throttled, authentication_failed, parse_basic
from devices.models import Device
from firmware import protocol
from lamplighter.secrets import secret_matches

UNAUTHORIZED = {"error": "device credentials required"}
CHALLENGE = 'Basic realm="lamplighter-device", charset="UTF-8"'


# The two reads of a poll, written out: the ORM spends ~0.2 ms building the device query and
# ~0.5 ms the lights one (three models instantiated per light), more than the rest of the
# request together; these take ~0.07 ms each (bench/README.md). Plain SQL both engines run.
_DEVICE_SQL = (
    "SELECT id, device_id, secret_hash, online, connection, last_seen, channel_name "
    "FROM devices_device WHERE device_id = %s"
)
_LIGHTS_SQL = (
    "SELECT r.name, l.name, l.desired_on, l.desired_version FROM lights_light l "
    "JOIN homes_room r ON r.id = l.room_id WHERE l.device_id = %s ORDER BY r.name, l.name"
)


def lights_status_answer(authorization: str | bytes | None, address: str = "") -> tuple[int, dict[str, Any]]:
    """(status, body) of a poll: the device's desired states as a hub.welcome, 401, or 429."""
    if address_throttled(address):
        return 429, THROTTLED
    credentials = parse_basic(authorization)
    device_id, secret = credentials or ("", "")
    device = None
    if device_id and len(device_id) <= 64 and secret and len(secret) <= 256:
        device = next(iter(Device.objects.raw(_DEVICE_SQL, [device_id])), None)
    if device is None or not secret_matches(secret, device.secret_hash):
        authentication_failed(address)
        return 401, UNAUTHORIZED
    services.device_seen(device=device, connection=Device.Connection.HTTP)
    with connection.cursor() as cursor:
        cursor.execute(_LIGHTS_SQL, [device.pk])
        entries = [
            protocol.light_entry(room, light, protocol.light_state(bool(on)), version)
            for room, light, on, version in cursor.fetchall()
        ]
    return 200, protocol.build_hub_welcome(device.device_id, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL, entries)


class PollRoute:
    """ASGI middleware: answers GET /lights_status/ itself, passes everything else on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != protocol.HUB_POLL_PATH:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        domain, _ = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            await _respond(send, 400, {"error": "bad host"})
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"error": "method not allowed"}, [(b"allow", b"GET, HEAD")])
            return
        client = scope.get("client") or ("", 0)
        status, body = await database_sync_to_async(lights_status_answer)(
            headers.get(b"authorization"), str(client[0])
        )
        extra = [(b"www-authenticate", CHALLENGE.encode())] if status == 401 else []
        await _respond(send, status, body, extra, head=scope["method"] == "HEAD")


async def _respond(
    send: Any,
    status: int,
    body: dict[str, Any],
    extra: list[tuple[bytes, bytes]] | None = None,
    head: bool = False,
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-content-type-options", b"nosniff"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})
