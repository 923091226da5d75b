"""Hub background work tied to the server's life: presence sweeper, LAN-push loop, scheduler,
adaptive planner, scheduled backups, MQTT bridge."""

import asyncio
import contextlib
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from lamplighter.adaptive.planner import run_adaptive_forever
from lamplighter.automations.scheduler import run_schedules_forever
from lamplighter.backup.scheduler import run_backups_forever
from lamplighter.devices import services
from lamplighter.gateway import poll_reader
from lamplighter.infra import cache, hub_loop
from lamplighter.infra import gc_tuning as collector
from lamplighter.infra.periodic import run_periodically
from lamplighter.mqtt_bridge.bridge import MqttBridge
from lamplighter.ota.services import jobs_sweep

logger = logging.getLogger(__name__)


class LifespanApp:
    """Wraps the ASGI app: answers lifespan events, starting and stopping background tasks."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tasks: list[asyncio.Task[None]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:  # noqa: BLE001 - reported to the server, which exits
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Runs once before the first request."""
        collector.tune_for_server()
        if str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).endswith("InMemoryChannelLayer"):
            # One process owns every socket, so none from a previous run can still be open.
            await database_sync_to_async(services.devices_forget_connections)()
        hub_loop.attach(asyncio.get_running_loop())
        # Drive OTA rollouts: start jobs on devices that became reachable, fail silent ones.
        self.tasks.append(
            asyncio.create_task(
                run_periodically(
                    jobs_sweep,
                    seconds=lambda: max(0.05, settings.LAMPLIGHTER_OTA_TICK),
                    what="OTA rollout sweep",
                )
            )
        )
        # Mark devices offline once they miss their heartbeats.
        self.tasks.append(
            asyncio.create_task(
                run_periodically(
                    services.devices_mark_missing_offline,
                    seconds=lambda: max(1, settings.LAMPLIGHTER_HEARTBEAT_INTERVAL),
                    what="presence sweep",
                )
            )
        )
        self.tasks.append(asyncio.create_task(run_schedules_forever()))
        self.tasks.append(asyncio.create_task(run_adaptive_forever()))
        self.tasks.append(asyncio.create_task(run_backups_forever()))
        if settings.MQTT_URL:
            # Every worker starts one; only the holder of the database lease connects.
            self.tasks.append(asyncio.create_task(MqttBridge.from_settings().run_forever()))

    async def shutdown(self) -> None:
        """Runs once when the server stops."""
        hub_loop.attach(None)
        await poll_reader.reader.close()
        await cache.close_async_clients()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
