"""Device HTTP routes: the seed's /lights_status/ poll and the message route of polling devices."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lamplighter.devices import services
from lamplighter.devices.auth import THROTTLED, address_throttled, device_from_authorization
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import handlers
from lamplighter.infra import metrics
from lamplighter.lights.selectors import device_welcome


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
            response = JsonResponse({"error": "device credentials required"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="lamplighter-device", charset="UTF-8"'
            return response
        return view(request, device, *args, **kwargs)

    return wrapper


@require_GET
@device_basic_auth
def lights_status(request: HttpRequest, device: Device) -> HttpResponse:
    """The device's lights with their desired states (a hub.welcome); also counts as a heartbeat.

    Under the hub's ASGI app devices.poll.PollRoute answers this path before Django (fewer
    thread hops); this view gives the same answer to everything else (WSGI, the test client).
    """
    services.device_seen(device=device, connection=Device.Connection.HTTP)
    return JsonResponse(device_welcome(device=device))


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
