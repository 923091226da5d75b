"""Template tags of the dashboard layout: the navigation's homes and the live-update settings."""

from typing import Any

from django import template
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import json_script
from django.utils.safestring import SafeString

from lamplighter.dashboard.consumers import DASHBOARD_WEBSOCKET_PATH
from lamplighter.homes.models import Home
from lamplighter.homes.selectors import home_list

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_homes(context: template.Context) -> QuerySet[Home]:
    """The homes of the logged-in user, for the navigation (none for visitors)."""
    request = context.get("request")
    if request is None:
        return Home.objects.none()
    return home_list(user=request.user)


@register.simple_tag(takes_context=True)
def live_config(context: template.Context) -> SafeString:
    """A JSON script element telling the page's JavaScript where to connect and what to refetch."""
    home = context.get("home")
    config: dict[str, Any] = {
        "homeId": home.pk if isinstance(home, Home) else None,
        "wsPath": "/" + DASHBOARD_WEBSOCKET_PATH,
        "lightsUrl": reverse("api-v1:light_list"),
        "devicesUrl": reverse("api-v1:device_list"),
    }
    return json_script(config, "live-config")
