"""Device HTTP routes: the seed's /lights_status/ poll and the message route of polling devices."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from devices import handlers, services
from devices.auth import device_from_authorization
from devices.models import Device
from firmware import protocol
from lights.selectors import device_desired_entries


def device_basic_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require the device's own Basic credentials (no cookies: these routes are not for browsers)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        device = device_from_authorization(request.headers.get("Authorization"))
        if device is None:
            response = JsonResponse({"error": "device credentials required"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="lamplighter-device", charset="UTF-8"'
            return response
        return view(request, device, *args, **kwargs)

    return wrapper


@require_GET
@device_basic_auth
def lights_status(request: HttpRequest, device: Device) -> HttpResponse:
    """The device's lights with their desired states (a hub.welcome); also counts as a heartbeat."""
    services.device_seen(device=device, connection=Device.Connection.HTTP)
    welcome = protocol.build_hub_welcome(
        device.device_id, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL, device_desired_entries(device=device)
    )
    return JsonResponse(welcome)


@csrf_exempt
@require_POST
@device_basic_auth
def device_messages(request: HttpRequest, device: Device) -> HttpResponse:
    """One device message per request; the answer holds the hub's replies."""
    replies, accepted = handlers.receive(device, request.body, Device.Connection.HTTP)
    if not accepted:
        return HttpResponse(protocol.encode(replies[0]), status=400, content_type="application/json")
    return HttpResponse(json.dumps({"replies": replies}), content_type="application/json")
