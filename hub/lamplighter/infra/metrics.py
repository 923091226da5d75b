"""The hub's Prometheus metrics (served by lamplighter.serving.health at /metrics).

Events are counted where they happen, with a counter increment only (the toggle path is
benchmarked: no query, no lock beyond prometheus_client's own). What the database already
knows (devices connected, lights pending, OTA jobs) is read from it at scrape time, so every
worker answers the same. With several workers, `serve` turns on prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a scrape of any worker adds up all of them.
"""

import logging
import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# The classic text format every Prometheus reads; the names here need none of 1.0.0's escaping.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
disable_created_metrics()  # no *_created series: counters start with the process, as Prometheus assumes

# The hub's own registry (not the library's default one, whose process_* and python_* names would
# not start with lamplighter_); the process figures come under the hub's prefix instead.
HUB_REGISTRY = CollectorRegistry()
_PROCESS = ProcessCollector(namespace="lamplighter", registry=None)

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


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: the same on every worker."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Runs on each scrape, in a thread that may use the database."""
        from django.db import DatabaseError

        up = GaugeMetricFamily("lamplighter_database_up", "1 when the scrape could read the database.")
        try:
            families = list(_database_families())
        except DatabaseError as error:
            logger.warning("metrics: database unavailable: %s", type(error).__name__)
            DATABASE_ERRORS.inc()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families
        yield from _backup_families()


def _database_families() -> Iterator[GaugeMetricFamily]:
    from django.db.models import Count, F, Q

    from lamplighter.devices.models import Device
    from lamplighter.lights.models import Light
    from lamplighter.ota.models import Job

    connected = GaugeMetricFamily(
        "lamplighter_devices_connected",
        "Devices online, by transport and mode.",
        labels=["transport", "mode"],
    )
    counts = {(t, m): 0 for t in (TRANSPORT_WEBSOCKET, TRANSPORT_HTTP) for m in ("local", "remote")}
    for row in Device.objects.filter(online=True).values("connection", "mode").annotate(n=Count("id")):
        key = (row["connection"] or "unknown", row["mode"] or "unknown")
        counts[key] = counts.get(key, 0) + row["n"]
    for (transport, mode), value in sorted(counts.items()):
        connected.add_metric([transport, mode], value)
    yield connected
    devices = GaugeMetricFamily("lamplighter_devices", "Devices registered.")
    devices.add_metric([], Device.objects.count())
    yield devices
    pending_filter = (
        Q(reported_version__isnull=True)
        | Q(reported_on__isnull=True)
        | ~Q(reported_version=F("desired_version"))
        | ~Q(reported_on=F("desired_on"))
    )
    light_counts = Light.objects.aggregate(total=Count("id"), pending=Count("id", filter=pending_filter))
    lights = GaugeMetricFamily("lamplighter_lights", "Lights.")
    lights.add_metric([], light_counts["total"])
    yield lights
    pending = GaugeMetricFamily(
        "lamplighter_lights_pending", "Lights whose device has not confirmed the desired state."
    )
    pending.add_metric([], light_counts["pending"])
    yield pending
    jobs = GaugeMetricFamily("lamplighter_ota_jobs", "OTA update jobs, by state.", labels=["state"])
    by_state = dict.fromkeys(Job.State.values, 0)
    for state, count in Job.objects.values_list("state").annotate(n=Count("id")):
        by_state[state] = count
    for state, value in sorted(by_state.items()):
        jobs.add_metric([state], value)
    yield jobs


def _backup_families() -> Iterator[GaugeMetricFamily]:
    from lamplighter.backup.services import backups_list

    newest = backups_list()
    if newest:
        last = GaugeMetricFamily(
            "lamplighter_backup_last_timestamp_seconds", "When the newest scheduled backup was written."
        )
        last.add_metric([], newest[-1].stat().st_mtime)
        yield last


_database_collector = DatabaseCollector()


def render() -> bytes:
    """The metrics in Prometheus' text format (reads the database: call it in a thread)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_HubMetrics())
        registry.register(_PROCESS)
    registry.register(_database_collector)
    return generate_latest(registry)


class _HubMetrics(Collector):
    """The counters and the histogram above, as this process counted them."""

    def collect(self) -> Iterator[Any]:
        """Everything the hub's registry holds."""
        yield from HUB_REGISTRY.collect()
