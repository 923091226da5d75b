"""The hub's Prometheus metrics (served by lamplighter.serving.health at /metrics).

Events are counted where they happen, with a counter increment only (the toggle path is
benchmarked: no query, no lock beyond prometheus_client's own). What the database already
knows (devices connected, lights pending, OTA jobs) is read from it at scrape time, so every
worker answers the same. With several workers, `serve` turns on prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a scrape of any worker adds up all of them.
"""

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# The classic text format every Prometheus reads; the names here need none of 1.0.0's escaping.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
disable_created_metrics()  # no *_created series: counters start with the process, as Prometheus assumes

# The hub's own registry (not the library's default one, whose process_* and python_* names would
# not start with lamplighter_); the process figures come under the hub's prefix instead.
HUB_REGISTRY = CollectorRegistry()
PROCESS = ProcessCollector(namespace="lamplighter", registry=None)

TOGGLE_SECONDS = Histogram(
    "lamplighter_toggle_seconds",
    "Toggle round trip: a desired state stored until the device's report of that version is stored.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=HUB_REGISTRY,
)
DEVICE_MESSAGES_RECEIVED = Counter(
    "lamplighter_device_messages_received",
    "Messages from devices: WebSocket frames by protocol type ('invalid' when unreadable), HTTP polls.",
    ["transport", "type"],
    registry=HUB_REGISTRY,
)
DEVICE_MESSAGES_SENT = Counter(
    "lamplighter_device_messages_sent",
    "Messages to devices: WebSocket frames by protocol type, LAN pushes (one per light).",
    ["transport", "type"],
    registry=HUB_REGISTRY,
)
DELIVERY_FAILURES = Counter(
    "lamplighter_delivery_failures",
    "Desired states a delivery path could not hand to a device (the device still converges by "
    "its next connection or poll).",
    ["path"],
    registry=HUB_REGISTRY,
)
LOGIN_FAILURES = Counter(
    "lamplighter_login_failures",
    "Failed dashboard logins (wrong user name or password).",
    registry=HUB_REGISTRY,
)
DEVICE_AUTH_FAILURES = Counter(
    "lamplighter_device_auth_failures",
    "Failed device authentications (WebSocket, poll, LAN).",
    registry=HUB_REGISTRY,
)
DATABASE_ERRORS = Counter(
    "lamplighter_database_errors",
    "Requests answered 503 because the database was unavailable, failed readiness checks and scrapes.",
    registry=HUB_REGISTRY,
)
CHANNEL_LAYER_ERRORS = Counter(
    "lamplighter_channel_layer_errors",
    "Channel-layer sends that failed or found a socket's channel full, and failed readiness checks.",
    registry=HUB_REGISTRY,
)

TRANSPORT_WEBSOCKET = "websocket"
TRANSPORT_HTTP = "http"
TRANSPORT_LAN = "lan"

# Children looked up once per label pair: .labels() takes a lock and builds a tuple per call.
_received: dict[tuple[str, str], Any] = {}
_sent: dict[tuple[str, str], Any] = {}


def device_message_received(transport: str, kind: str) -> None:
    """Count one message from a device (kind: a protocol message type, or a fixed word)."""
    child = _received.get((transport, kind))
    if child is None:
        child = _received[(transport, kind)] = DEVICE_MESSAGES_RECEIVED.labels(transport, kind)
    child.inc()


def device_message_sent(transport: str, kind: str) -> None:
    """Count one message to a device."""
    child = _sent.get((transport, kind))
    if child is None:
        child = _sent[(transport, kind)] = DEVICE_MESSAGES_SENT.labels(transport, kind)
    child.inc()


class HubMetrics(Collector):
    """The counters and the histogram above, as this process counted them."""

    def collect(self) -> Iterator[Any]:
        """Everything the hub's registry holds."""
        yield from HUB_REGISTRY.collect()
