"""/healthz, /readyz and /metrics: async views behind the hub's one middleware chain.

/healthz: the process answers. /readyz: the database and the channel layer answer too (503 and
the reasons otherwise), for a proxy or an orchestrator. /metrics: Prometheus' text format,
only to the addresses or the bearer token of LAMPLIGHTER_METRICS_* (403 otherwise).
"""

import asyncio
import hmac
import ipaddress
import logging

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from lamplighter.infra import dbthread, metrics
from lamplighter.serving import metrics_scrape

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
# Probes an orchestrator sends knowing only the address: no host check (asgi.HubRequest).
PROBE_PATHS = frozenset({HEALTH_PATH, READY_PATH})
TEXT = "text/plain; charset=utf-8"
CHECK_TIMEOUT = 5.0  # seconds each readiness check may take
READY_CHECK_MESSAGE = "readyz.check"  # a channel-layer message type (not the device protocol)


@csrf_exempt  # a probe posts no form: its 405 is the answer
@require_safe
async def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers."""
    return _answer(HttpResponse(b"ok\n", content_type=TEXT))


@csrf_exempt  # a probe posts no form: its 405 is the answer
@require_safe
async def readyz(request: HttpRequest) -> HttpResponse:
    """The database and the channel layer answer too (503 and the reasons otherwise)."""
    problems = await readiness_problems()
    return _answer(
        JsonResponse({"ready": not problems, "problems": problems}, status=503 if problems else 200)
    )


@csrf_exempt  # a probe posts no form: its 405 is the answer
@require_safe
async def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, to the allowed addresses or the bearer token (403 otherwise)."""
    if not metrics_allowed(request):
        return _answer(
            HttpResponse(b"metrics are not served to this address\n", status=403, content_type=TEXT)
        )
    body = await dbthread.run(metrics_scrape.render)
    return _answer(HttpResponse(body, content_type=metrics.CONTENT_TYPE))


def _answer(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


async def readiness_problems() -> list[str]:
    """Why the hub cannot serve now (empty when it can): the database or the channel layer."""
    problems = []
    try:
        await asyncio.wait_for(dbthread.run(_database_ping), CHECK_TIMEOUT)
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


def metrics_allowed(request: HttpRequest) -> bool:
    """Whether this request may read /metrics: the token of LAMPLIGHTER_METRICS_TOKEN, or a client
    address within LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES."""
    token = settings.LAMPLIGHTER_METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        if hmac.compare_digest(header.encode("latin-1", "replace"), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    for network in settings.LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            logger.warning("LAMPLIGHTER_METRICS_ALLOWED_ADDRESSES: %r is not an address or network", network)
    return False
