"""Dashboard pages: parse the request, call a service, render or redirect."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from lamplighter.automations.selectors import scene_list
from lamplighter.dashboard.adaptive_chart import adaptive_context
from lamplighter.dashboard.forms import LightForm, NameForm
from lamplighter.devices import services as device_services
from lamplighter.devices.models import Device
from lamplighter.devices.selectors import (
    device_board_config,
    device_get,
    device_list,
    device_log_lines,
    device_payload,
)
from lamplighter.firmware import protocol
from lamplighter.homes import services as home_services
from lamplighter.homes.models import Home
from lamplighter.homes.permissions import home_require_owner
from lamplighter.homes.selectors import home_get, home_list, home_role, room_get, room_list
from lamplighter.lights import services as light_services
from lamplighter.lights.models import Light
from lamplighter.lights.selectors import light_get, light_list, light_payload

T = TypeVar("T")


# ---- helpers ---------------------------------------------------------------------------


def _or_404(select: Callable[..., T], **kwargs: Any) -> T:
    """The selector's object; a 404 when it is missing or in a home the user does not belong to."""
    try:
        return select(**kwargs)
    except ObjectDoesNotExist as error:
        raise Http404("not found") from error


def _owned_home(request: HttpRequest, home_id: int) -> Home:
    """One of the user's homes, which they must own (403 for members, 404 for strangers)."""
    home = _or_404(home_get, user=request.user, home_id=home_id)
    home_require_owner(user=request.user, home=home)
    return home


def _run(form: Form, action: Callable[[dict[str, Any]], T]) -> T | None:
    """Call the service with the form's data; its ValidationError becomes a form error (None)."""
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def _home_url(home_id: int) -> str:
    return reverse("dashboard:home", kwargs={"home_id": home_id})


def _form_page(request: HttpRequest, form: Form, *, home: Home, title: str, submit: str) -> HttpResponse:
    """The shared page of every small management form."""
    context = {"form": form, "home": home, "title": title, "submit": submit, "cancel_url": _home_url(home.pk)}
    return render(request, "dashboard/form.html", context)


def _confirm_page(request: HttpRequest, *, home: Home, title: str, message: str) -> HttpResponse:
    """Asks before deleting; the deletion itself needs a POST."""
    context = {"home": home, "title": title, "message": message, "cancel_url": _home_url(home.pk)}
    return render(request, "dashboard/confirm.html", context)


def _secret_page(request: HttpRequest, *, device: Device, secret: str, title: str) -> HttpResponse:
    """The device's credentials, shown this once: never in a URL, never cached, never logged."""
    context: dict[str, Any] = {"home": device.home, "device": device, "secret": secret, "title": title}
    context.update(_connection_help(request))
    # The ready config.json travels inside this page only (a data: link), never in a URL the hub serves.
    config = device_board_config(device=device, secret=secret, hub_url=context["hub_url"])
    context["config_json"] = json.dumps(config, indent=2) + "\n"
    response = render(request, "dashboard/device_secret.html", context)
    patch_cache_control(response, no_store=True, private=True)
    return response


def _connection_help(request: HttpRequest) -> dict[str, str]:
    """The addresses a device is configured with, as this browser reached the hub."""
    hub_url = request.build_absolute_uri("/")
    ws_url = ("wss://" if request.is_secure() else "ws://") + request.get_host() + protocol.HUB_WEBSOCKET_PATH
    return {"hub_url": hub_url, "ws_url": ws_url}


# ---- homes -------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The user's homes, and a form to create one; a user with exactly one home lands on it
    (after logging in, or from the logo), unless ?all=1 asks for the list."""
    homes = list(home_list(user=request.user)[:2])
    if len(homes) == 1 and not request.GET.get("all"):
        return redirect(_home_url(homes[0].pk))
    return render(
        request, "dashboard/index.html", {"homes": home_list(user=request.user), "form": NameForm()}
    )


@login_required
@require_POST
def home_create(request: HttpRequest) -> HttpResponse:
    """Create a home owned by the user."""
    form = NameForm(request.POST)
    home = _run(form, lambda data: home_services.home_create(name=data["name"], owner=request.user))  # type: ignore[arg-type]
    if home is None:
        return render(request, "dashboard/index.html", {"homes": home_list(user=request.user), "form": form})
    return redirect(_home_url(home.pk))


@login_required
def home_detail(request: HttpRequest, home_id: int) -> HttpResponse:
    """A home: its rooms with their light switches, and its devices."""
    home = _or_404(home_get, user=request.user, home_id=home_id)
    lights = list(light_list(user=request.user, home_id=home.pk))
    devices = list(device_list(user=request.user, home_id=home.pk))
    lights_by_room: dict[int, list[Light]] = {}
    for light in lights:
        lights_by_room.setdefault(light.room_id, []).append(light)
    rooms = [
        (room, lights_by_room.get(room.pk, [])) for room in room_list(user=request.user, home_id=home.pk)
    ]
    role = home_role(user=request.user, home=home)
    context = {
        "home": home,
        "role": role,
        "is_owner": role == "owner",
        "rooms": rooms,
        **adaptive_context(home=home, rooms=[room for room, _ in rooms], lights=lights),
        "devices": devices,
        "scenes": list(scene_list(user=request.user, home_id=home.pk)),
        # The same shapes the live events carry, so the page's JavaScript starts from them.
        "light_payloads": [light_payload(light) for light in lights],
        "device_payloads": [device_payload(device) for device in devices],
    }
    return render(request, "dashboard/home_detail.html", context)


# ---- rooms -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest, home_id: int) -> HttpResponse:
    """Add a room (owners)."""
    home = _owned_home(request, home_id)
    form = NameForm(request.POST if request.method == "POST" else None)
    if (
        request.method == "POST"
        and _run(form, lambda d: home_services.room_create(home=home, name=d["name"])) is not None
    ):
        return redirect(_home_url(home.pk))
    return _form_page(request, form, home=home, title=_("Add a room"), submit=_("Add room"))


@login_required
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, room_id: int) -> HttpResponse:
    """Rename a room (owners)."""
    room = _or_404(room_get, user=request.user, room_id=room_id)
    home = _owned_home(request, room.home_id)
    form = NameForm(request.POST if request.method == "POST" else None, initial={"name": room.name})
    if (
        request.method == "POST"
        and _run(form, lambda d: home_services.room_rename(room=room, name=d["name"])) is not None
    ):
        return redirect(_home_url(home.pk))
    return _form_page(
        request, form, home=home, title=_("Rename %(name)s") % {"name": room.name}, submit=_("Save")
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_delete(request: HttpRequest, room_id: int) -> HttpResponse:
    """Delete a room and its lights (owners); GET asks first."""
    room = _or_404(room_get, user=request.user, room_id=room_id)
    home = _owned_home(request, room.home_id)
    if request.method == "POST":
        home_services.room_delete(room=room)
        return redirect(_home_url(home.pk))
    lights = room.lights.count()
    message = ngettext(
        "Delete the room %(name)s and its %(count)d light?",
        "Delete the room %(name)s and its %(count)d lights?",
        lights,
    ) % {"name": room.name, "count": lights}
    return _confirm_page(
        request, home=home, title=_("Delete %(name)s") % {"name": room.name}, message=message
    )


# ---- lights ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def light_create(request: HttpRequest, home_id: int) -> HttpResponse:
    """Add a light to a room of the home, optionally driven by one of its devices (owners)."""
    home = _owned_home(request, home_id)
    form = LightForm(request.POST if request.method == "POST" else None, home=home)
    if (
        request.method == "POST"
        and _run(
            form,
            lambda d: light_services.light_create(
                room=d["room"],
                name=d["name"],
                device=d["device"],
                kind=d["kind"] or Light.Kind.ONOFF,
                min_kelvin=d["min_kelvin"],
                max_kelvin=d["max_kelvin"],
            ),
        )
        is not None
    ):
        return redirect(_home_url(home.pk))
    return _form_page(request, form, home=home, title=_("Add a light"), submit=_("Add light"))


@login_required
@require_http_methods(["GET", "POST"])
def light_edit(request: HttpRequest, light_id: int) -> HttpResponse:
    """Rename a light, move it to another room, or give it another device (owners)."""
    light = _or_404(light_get, user=request.user, light_id=light_id)
    home = _owned_home(request, light.room.home_id)
    initial = {
        "name": light.name,
        "room": light.room_id,
        "device": light.device_id,
        "kind": light.kind,
        "min_kelvin": light.min_kelvin,
        "max_kelvin": light.max_kelvin,
    }
    form = LightForm(request.POST if request.method == "POST" else None, home=home, initial=initial)
    if (
        request.method == "POST"
        and _run(
            form,
            lambda d: light_services.light_update(
                light=light,
                name=d["name"],
                room=d["room"],
                device=d["device"],
                kind=d["kind"] or None,
                min_kelvin=d["min_kelvin"],
                max_kelvin=d["max_kelvin"],
            ),
        )
        is not None
    ):
        return redirect(_home_url(home.pk))
    return _form_page(
        request, form, home=home, title=_("Edit %(name)s") % {"name": light.name}, submit=_("Save")
    )


@login_required
@require_http_methods(["GET", "POST"])
def light_delete(request: HttpRequest, light_id: int) -> HttpResponse:
    """Delete a light (owners); GET asks first."""
    light = _or_404(light_get, user=request.user, light_id=light_id)
    home = _owned_home(request, light.room.home_id)
    if request.method == "POST":
        light_services.light_delete(light=light)
        return redirect(_home_url(home.pk))
    message = _("Delete the light %(light)s in %(room)s?") % {"light": light.name, "room": light.room.name}
    return _confirm_page(
        request, home=home, title=_("Delete %(name)s") % {"name": light.name}, message=message
    )


# ---- devices -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def device_register(request: HttpRequest, home_id: int) -> HttpResponse:
    """Register a device (owners); the answer shows its id and secret once."""
    home = _owned_home(request, home_id)
    form = NameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        registered = _run(form, lambda d: device_services.device_register(home=home, name=d["name"]))
        if registered is not None:
            device, secret = registered
            return _secret_page(
                request,
                device=device,
                secret=secret,
                title=_("%(name)s is registered") % {"name": device.name},
            )
    context = {"form": form, "home": home, "cancel_url": _home_url(home.pk)}
    context.update(_connection_help(request))
    return render(request, "dashboard/device_register.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def device_edit(request: HttpRequest, device_pk: int) -> HttpResponse:
    """Rename a device (owners); the page also offers to rotate its secret or delete it."""
    device = _or_404(device_get, user=request.user, device_pk=device_pk)
    home = _owned_home(request, device.home_id)
    form = NameForm(request.POST if request.method == "POST" else None, initial={"name": device.name})
    if (
        request.method == "POST"
        and _run(form, lambda d: device_services.device_rename(device=device, name=d["name"])) is not None
    ):
        return redirect(_home_url(home.pk))
    context = {"form": form, "home": home, "device": device, "cancel_url": _home_url(home.pk)}
    return render(request, "dashboard/device_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def device_rotate_secret(request: HttpRequest, device_pk: int) -> HttpResponse:
    """Give a device a new secret (owners), shown once; GET asks first."""
    device = _or_404(device_get, user=request.user, device_pk=device_pk)
    home = _owned_home(request, device.home_id)
    if request.method == "POST":
        secret = device_services.device_rotate_secret(device=device)
        return _secret_page(
            request, device=device, secret=secret, title=_("New secret for %(name)s") % {"name": device.name}
        )
    message = _(
        "Make a new secret for %(name)s? The current one stops working at once and the device "
        "is disconnected until it is configured with the new one."
    ) % {"name": device.name}
    title = _("Rotate the secret of %(name)s") % {"name": device.name}
    return _confirm_page(request, home=home, title=title, message=message)


@login_required
@require_http_methods(["GET", "POST"])
def device_delete(request: HttpRequest, device_pk: int) -> HttpResponse:
    """Delete a device (owners); its lights stay, without a device. GET asks first."""
    device = _or_404(device_get, user=request.user, device_pk=device_pk)
    home = _owned_home(request, device.home_id)
    if request.method == "POST":
        device_services.device_delete(device=device)
        return redirect(_home_url(home.pk))
    message = _("Delete the device %(name)s? Its lights stay, without a device.") % {"name": device.name}
    return _confirm_page(
        request, home=home, title=_("Delete %(name)s") % {"name": device.name}, message=message
    )


@login_required
@require_http_methods(["GET", "POST"])
def pairing_code_create(request: HttpRequest, home_id: int) -> HttpResponse:
    """Make a one-time pairing code for a new device (owners), shown once; GET asks first."""
    home = _owned_home(request, home_id)
    if request.method != "POST":
        message = _(
            "Make a one-time pairing code? Type it into the setup page of a new device within "
            "10 minutes; it works once."
        )
        return _confirm_page(request, home=home, title=_("Pair a new device"), message=message)
    pairing, code = device_services.pairing_code_create(home=home, user=request.user)
    context = {"home": home, "code": code[:4] + "-" + code[4:], "expires_at": pairing.expires_at}
    context.update(_connection_help(request))
    response = render(request, "dashboard/pairing_code.html", context)
    patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def device_log(request: HttpRequest, device_pk: int) -> HttpResponse:
    """A device's recent log lines, followed live."""
    device = _or_404(device_get, user=request.user, device_pk=device_pk)
    context = {"home": device.home, "device": device, "lines": device_log_lines(device=device)}
    return render(request, "dashboard/device_log.html", context)
