"""Device HTTP routes; their paths come from the protocol module."""

from django.urls import path

from lamplighter.firmware import protocol
from lamplighter.gateway import views

urlpatterns = [
    path(protocol.HUB_POLL_PATH.lstrip("/"), views.lights_status, name="lights-status"),
    path(protocol.HUB_MESSAGES_PATH.lstrip("/"), views.device_messages, name="device-messages"),
    path(protocol.HUB_PAIR_PATH.lstrip("/"), views.device_pair, name="device-pair"),
]
