"""What a /metrics scrape answers: the hub's counters (lamplighter.infra.metrics) and the gauges
read from the database at scrape time (devices, lights, OTA jobs, backups), so every worker
answers the same."""

import logging
import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from lamplighter.infra import metrics
from lamplighter.infra.metrics import TRANSPORT_HTTP, TRANSPORT_WEBSOCKET

logger = logging.getLogger(__name__)


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
            metrics.DATABASE_ERRORS.inc()
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
        registry.register(metrics.HubMetrics())
        registry.register(metrics.PROCESS)
    registry.register(_database_collector)
    return generate_latest(registry)
