"""Dashboard actions of adaptive white: the switch of a light and of a room, resuming a light."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from lamplighter.adaptive import services
from lamplighter.dashboard.views import _home_url, _or_404
from lamplighter.homes.permissions import home_require_owner
from lamplighter.homes.selectors import room_get
from lamplighter.lights.selectors import light_get


@login_required
@require_POST
def light_adaptive(request: HttpRequest, light_id: int) -> HttpResponse:
    """Switch adaptive white for a light (owners); `adaptive` is "1" or "0"."""
    light = _or_404(light_get, user=request.user, light_id=light_id)
    home_require_owner(user=request.user, home=light.room.home)
    try:
        services.light_adaptive_set(light=light, adaptive=request.POST.get("adaptive") == "1")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    return redirect(_home_url(light.room.home_id))


@login_required
@require_POST
def room_adaptive(request: HttpRequest, room_id: int) -> HttpResponse:
    """Switch adaptive white for every light of a room that dims (owners)."""
    room = _or_404(room_get, user=request.user, room_id=room_id)
    home_require_owner(user=request.user, home=room.home)
    try:
        services.room_adaptive_set(room=room, adaptive=request.POST.get("adaptive") == "1")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    return redirect(_home_url(room.home_id))


@login_required
@require_POST
def light_adaptive_resume(request: HttpRequest, light_id: int) -> HttpResponse:
    """Resume what a manual change paused on a light (members)."""
    light = _or_404(light_get, user=request.user, light_id=light_id)
    services.light_adaptive_resume(light=light)
    return redirect(_home_url(light.room.home_id))
