"""Device HTTP routes: the seed's /lights_status/ poll, the message route of polling devices, pairing."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from psycopg_pool import PoolTimeout
from redis.exceptions import RedisError

from lamplighter.devices import services
from lamplighter.devices.auth import THROTTLED, address_throttled, device_from_authorization
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import handlers, poll
from lamplighter.infra import metrics
from lamplighter.infra.database_unavailable import database_unavailable_response


def device_basic_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require the device's own Basic credentials (no cookies: these routes are not for browsers)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = request.META.get("REMOTE_ADDR", "")
        if address_throttled(address):
            response = JsonResponse(THROTTLED, status=429)
            response["Retry-After"] = str(settings.LAMPLIGHTER_DEVICE_AUTH_WINDOW_SECONDS)
            return response
        device = device_from_authorization(request.headers.get("Authorization"), address)
        if device is None:
            response = JsonResponse(poll.UNAUTHORIZED, status=401)
            response["WWW-Authenticate"] = poll.CHALLENGE
            return response
        return view(request, device, *args, **kwargs)

    return wrapper


@csrf_exempt
@require_safe
async def lights_status(request: HttpRequest) -> HttpResponse:
    """The device's lights with their desired states (a hub.welcome); also counts as a heartbeat.

    401 without the device's own Basic credentials, 429 for an address that failed too often,
    503 when the database (or the Redis holding the failure counts) is away.
    """
    metrics.device_message_received(metrics.TRANSPORT_HTTP, "poll")
    try:
        # META, not request.headers: that builds a mapping of every header for the one asked.
        status, body = await poll.lights_status_answer_async(
            request.META.get("HTTP_AUTHORIZATION"), request.META.get("REMOTE_ADDR", "")
        )
    except (OperationalError, InterfaceError, psycopg.OperationalError, PoolTimeout, RedisError) as error:
        return database_unavailable_response(error)
    # A hub.welcome (or an error) in the protocol's one encoding.
    response = HttpResponse(protocol.encode(body), status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = poll.CHALLENGE
    elif status == 429:
        response["Retry-After"] = str(settings.LAMPLIGHTER_DEVICE_AUTH_WINDOW_SECONDS)
    return response


@csrf_exempt
@require_POST
@device_basic_auth
def device_messages(request: HttpRequest, device: Device) -> HttpResponse:
    """One device message per request; the answer holds the hub's replies."""
    replies, accepted = handlers.receive(device, request.body, Device.Connection.HTTP)
    for reply in replies:
        metrics.device_message_sent(metrics.TRANSPORT_HTTP, reply["type"])
    if not accepted:
        return HttpResponse(protocol.encode(replies[0]), status=400, content_type="application/json")
    return HttpResponse(json.dumps({"replies": replies}), content_type="application/json")


@csrf_exempt
@require_POST
def device_pair(request: HttpRequest) -> HttpResponse:
    """An unconfigured device trades a one-time pairing code for its own id and secret (201)."""
    try:
        body = protocol.check_pair_request(json.loads(request.body or b"null"))
    except (ValueError, protocol.ProtocolError) as error:
        reason = error.reason if isinstance(error, protocol.ProtocolError) else "the body must be JSON"
        return JsonResponse({"error": reason}, status=400)
    try:
        device, secret = services.pairing_code_redeem(
            code=body["code"],
            name=body["name"],
            board=body["board"],
            remote_addr=request.META.get("REMOTE_ADDR", ""),
        )
    except services.PairingLocked as error:
        return JsonResponse({"error": str(error)}, status=429, headers={"Retry-After": "900"})
    except ValidationError:
        return JsonResponse({"error": "unknown, used or expired pairing code"}, status=403)
    response = JsonResponse(
        {"device_id": device.device_id, "secret": secret, "name": device.name}, status=201
    )
    response["Cache-Control"] = "no-store"
    return response
