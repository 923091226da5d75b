"""/healthz, /readyz and /metrics, answered straight from ASGI (before Django's middleware).

/healthz: the process answers. /readyz: the database and the channel layer answer too (503 and
the reasons otherwise), for a proxy or an orchestrator. /metrics: Prometheus' text format,
only to the addresses or the bearer token of LAMPLIGHTER_METRICS_* (403 otherwise).
"""

import asyncio
import hmac
import ipaddress
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from lamplighter.infra import metrics
from lamplighter.serving import metrics_scrape

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
_PATHS = frozenset({HEALTH_PATH, READY_PATH, METRICS_PATH})
CHECK_TIMEOUT = 5.0  # seconds each readiness check may take
READY_CHECK_MESSAGE = "readyz.check"  # a channel-layer message type (not the device protocol)


class HealthRoute:
    """ASGI middleware: answers the three paths itself, passes everything else on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in _PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, b"method not allowed\n", extra=[(b"allow", b"GET, HEAD")])
            return
        head = scope["method"] == "HEAD"
        path = scope["path"]
        if path == HEALTH_PATH:
            await _respond(send, 200, b"ok\n", head=head)
        elif path == READY_PATH:
            problems = await readiness_problems()
            body = json.dumps({"ready": not problems, "problems": problems}).encode()
            await _respond(send, 503 if problems else 200, body, b"application/json", head=head)
        elif not metrics_allowed(scope):
            await _respond(send, 403, b"metrics are not served to this address\n", head=head)
        else:
            body = await database_sync_to_async(metrics_scrape.render)()
            await _respond(send, 200, body, metrics.CONTENT_TYPE.encode(), head=head)


async def readiness_problems() -> list[str]:
    """Why the hub cannot serve now (empty when it can): the database or the channel layer."""
    problems = []
    try:
        await asyncio.wait_for(database_sync_to_async(_database_ping)(), CHECK_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any failure is the reason given
        metrics.DATABASE_ERRORS.inc()
        problems.append(f"database: {_reason(error)}")
    try:
        await asyncio.wait_for(_channel_layer_ping(), CHECK_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any failure is the reason given
        metrics.CHANNEL_LAYER_ERRORS.inc()
        problems.append(f"channel layer: {_reason(error)}")
    if problems:
        logger.warning("not ready: %s", "; ".join(problems))
    return problems


def _reason(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:g} s"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}{': ' + text[:200] if text else ''}"


def _database_ping() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _channel_layer_ping() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": READY_CHECK_MESSAGE})
    await layer.receive(channel)


def metrics_allowed(scope: dict[str, Any]) -> bool:
    """Whether this request may read /metrics: the token of LAMPLIGHTER_METRICS_TOKEN, or a client
    address within LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES."""
    token = settings.LAMPLIGHTER_METRICS_TOKEN
    if token:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            return True
    client = scope.get("client") or ("", 0)
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:
        return False
    for network in settings.LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            logger.warning("LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES: %r is not an address or network", network)
    return False


async def _respond(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes = b"text/plain; charset=utf-8",
    head: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
