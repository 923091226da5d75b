"""The running bridge: one MQTT session at a time, held by the worker that holds the lease.

Thin by design: it parses (topics, payloads), calls services and selectors, and publishes what
discovery.py builds. It learns about changes from the channel layer (the same events the
dashboards get, from whichever worker made them), and re-checks everything periodically.
"""

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from lamplighter.homes.models import Home
from lamplighter.infra import realtime
from lamplighter.mqtt_bridge import adaptive, discovery, holders, selectors, services
from lamplighter.mqtt_bridge.adaptive import AdaptiveSwitches
from lamplighter.mqtt_bridge.discovery import OFFLINE, ONLINE, Topics

logger = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0


class LeaseLost(Exception):
    """Another worker took the bridge over (or the database was unreachable for a whole lease)."""


@dataclass(frozen=True)
class BrokerAddress:
    """Where and how to connect, from MQTT_URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> BrokerAddress:
    """mqtt://[user[:password]@]host[:port] or mqtts://... (TLS, port 8883 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError("MQTT_URL must look like mqtt://user:password@host:1883 or mqtts://host:8883")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def _hub_version() -> str:
    try:
        return metadata.version("lamplighter")
    except metadata.PackageNotFoundError:
        return "0"


class MqttBridge:
    """Publishes every light and scene to Home Assistant and takes its commands, while leading."""

    def __init__(
        self,
        *,
        url: str,
        ca_file: str = "",
        prefix: str = "homeassistant",
        base: str = "lamplighter",
        lease_seconds: int = 30,
        resync_seconds: int = 60,
        color_temp_unit: str = "kelvin",
    ) -> None:
        self.address = parse_mqtt_url(url)
        self.ca_file = ca_file
        self.topics = Topics(base=base.strip("/"), prefix=prefix.strip("/"))
        self.lease_seconds = max(3, lease_seconds)
        self.resync_seconds = max(1, resync_seconds)
        self.mireds = color_temp_unit == "mireds"
        self.holder = holders.holder_name()
        self.hub_version = _hub_version()
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._published: dict[str, str] = {}  # retained topic -> payload last sent in this session
        self._light_ids: set[int] = set()
        self._scene_ids: set[int] = set()
        self.adaptive = AdaptiveSwitches(self.topics, self.hub_version)  # adaptive white's switches
        # Full syncs run one at a time: interleaved, an older snapshot would remove what a
        # newer one just announced.
        self._sync_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls) -> "MqttBridge":
        """The bridge as the environment configures it."""
        return cls(
            url=settings.MQTT_URL,
            ca_file=settings.MQTT_CA_FILE,
            prefix=settings.MQTT_DISCOVERY_PREFIX,
            base=settings.MQTT_BASE_TOPIC,
            lease_seconds=settings.MQTT_LEASE_SECONDS,
            resync_seconds=settings.MQTT_RESYNC_SECONDS,
            color_temp_unit=settings.MQTT_COLOR_TEMP_UNIT,
        )

    # ---- leading and reconnecting ------------------------------------------------------

    async def run_forever(self) -> None:
        """Stand by until this worker holds the lease, then keep a session up; runs until cancelled."""
        backoff = BACKOFF_FIRST
        try:
            while True:
                if not await self._lease_acquire():
                    await asyncio.sleep(self.lease_seconds / 3)
                    continue
                started = time.monotonic()
                try:
                    await self._session()
                except aiomqtt.MqttError as error:
                    logger.warning("MQTT bridge disconnected: %s (retrying in %.0f s)", error, backoff)
                except LeaseLost:
                    logger.warning("MQTT bridge lease lost; standing by")
                    continue
                except Exception:  # noqa: BLE001 - the bridge must outlive any single failure
                    logger.exception("MQTT bridge failed (retrying in %.0f s)", backoff)
                if time.monotonic() - started > BACKOFF_MAX:
                    backoff = BACKOFF_FIRST  # it ran for a while: this is a new outage
                await asyncio.sleep(backoff)
                backoff = min(BACKOFF_MAX, backoff * 2)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    database_sync_to_async(services.bridge_lease_release)(holder=self.holder)
                )

    async def _lease_acquire(self) -> bool:
        try:
            return await database_sync_to_async(services.bridge_lease_acquire)(
                holder=self.holder, seconds=self.lease_seconds
            )
        except Exception:  # noqa: BLE001 - database down: not leading, try again later
            logger.exception("MQTT bridge could not reach the database for its lease")
            return False

    async def _renew_lease(self) -> None:
        last_renewed = time.monotonic()
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await database_sync_to_async(services.bridge_lease_acquire)(
                    holder=self.holder, seconds=self.lease_seconds
                )
            except Exception:  # noqa: BLE001 - keep leading until the lease would have run out
                logger.exception("MQTT bridge lease renewal failed")
                held = time.monotonic() - last_renewed < self.lease_seconds * 2 / 3
            else:
                last_renewed = time.monotonic() if held else last_renewed
            if not held:
                raise LeaseLost

    # ---- one session ----------------------------------------------------------------------

    async def _session(self) -> None:
        tls_context = ssl.create_default_context(cafile=self.ca_file or None) if self.address.tls else None
        will = aiomqtt.Will(self.topics.bridge_status, OFFLINE, qos=1, retain=True)
        async with aiomqtt.Client(
            self.address.host,
            self.address.port,
            username=self.address.username,
            password=self.address.password,
            identifier=f"{self.topics.base.replace('/', '-')}-bridge-{secrets.token_hex(3)}",
            will=will,
            tls_context=tls_context,
            keepalive=30,
        ) as client:
            self._client = client
            self._published.clear()
            layer = get_channel_layer()
            channel = await layer.new_channel() if layer is not None else None
            try:
                await self._sync_all(force=True)
                await self._join_groups(channel)
                # Subscribed after the first sync, so retained configs seen next can be judged stale.
                filters = [
                    *self.topics.command_filters(),
                    *self.topics.config_filters(),
                    *adaptive.command_filters(self.topics),
                    *adaptive.config_filters(self.topics),
                    self.topics.ha_status,
                ]
                await client.subscribe([(topic, 1) for topic in filters])
                # Online only now: Home Assistant sends commands once the bridge is online, and a
                # command sent before the subscription would be lost (they are not retained).
                await self._publish(self.topics.bridge_status, ONLINE)
                logger.info("MQTT bridge connected to %s:%s", self.address.host, self.address.port)
                self.connected.set()
                await _first_failure(
                    self._read_messages(client),
                    self._read_events(channel),
                    self._renew_lease(),
                    self._resync_periodically(channel),
                )
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):  # a clean stop: say offline (the will is for crashes)
                    await asyncio.wait_for(self._publish(self.topics.bridge_status, OFFLINE, force=True), 2)
                raise
            finally:
                self.connected.clear()
                self._client = None
                await self._leave_groups(channel)
                # aiomqtt leaves a lost connection's error on a future nobody reads; read it, so
                # asyncio does not log "Future exception was never retrieved" (the error is logged above).
                lost = getattr(client, "_disconnected", None)
                if isinstance(lost, asyncio.Future) and lost.done() and not lost.cancelled():
                    lost.exception()

    async def _join_groups(self, channel: str | None) -> None:
        layer = get_channel_layer()
        if layer is None or channel is None:
            return
        await layer.group_add(realtime.INTEGRATIONS_GROUP, channel)
        for home_id in await database_sync_to_async(
            lambda: list(Home.objects.values_list("pk", flat=True))
        )():
            await layer.group_add(realtime.home_group(home_id), channel)

    async def _leave_groups(self, channel: str | None) -> None:
        layer = get_channel_layer()
        if layer is None or channel is None:
            return
        with contextlib.suppress(Exception):
            await layer.group_discard(realtime.INTEGRATIONS_GROUP, channel)
            for home_id in await database_sync_to_async(
                lambda: list(Home.objects.values_list("pk", flat=True))
            )():
                await layer.group_discard(realtime.home_group(home_id), channel)

    # ---- inbound ---------------------------------------------------------------------------

    async def _read_messages(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = (
                message.payload if isinstance(message.payload, bytes) else str(message.payload or "").encode()
            )
            try:
                await self.handle_message(message.topic.value, payload, retained=bool(message.retain))
            except Exception:  # noqa: BLE001 - one bad message never stops the bridge
                logger.exception("MQTT message on %s failed", message.topic.value)

    async def handle_message(self, topic: str, payload: bytes, *, retained: bool) -> None:
        """Dispatch one MQTT message: a command, Home Assistant coming online, or a retained config."""
        if topic == self.topics.ha_status:
            if payload.strip() == ONLINE.encode():
                await self._sync_all(force=True)  # HA restarted: it wants discovery again
            return
        if await self.adaptive.handle_command(topic, payload, retained=retained):
            return
        command = self.topics.parse_command(topic)
        if command is not None:
            if retained:
                logger.warning("retained MQTT command on %s ignored", topic)
                return
            kind, object_id = command
            if kind == "light":
                await database_sync_to_async(services.bridge_light_command)(
                    light_id=object_id, payload=payload, mireds=self.mireds
                )
            else:
                await database_sync_to_async(services.bridge_scene_command)(
                    scene_id=object_id, payload=payload
                )
            return
        if payload and self.topics.owns_config(topic) and topic not in self._expected_configs():
            logger.info("removing stale discovery config %s", topic)
            await self._publish(topic, "", force=True)

    async def _read_events(self, channel: str | None) -> None:
        layer = get_channel_layer()
        if layer is None or channel is None:
            await asyncio.Event().wait()  # no channel layer: the periodic resync does it all
            return
        while True:
            message = await layer.receive(channel)
            try:
                await self.handle_event(message)
            except aiomqtt.MqttError:
                raise
            except Exception:  # noqa: BLE001 - a failed refresh is retried by the next resync
                logger.exception("MQTT bridge could not handle %s", message.get("type"))

    async def handle_event(self, message: dict[str, Any]) -> None:
        """A channel-layer message: a dashboard event of a home, or a resync request."""
        if message.get("type") == realtime.INTEGRATIONS_RESYNC:
            await self._sync_all()
            return
        events = message.get("events") or []
        light_ids = [event["light"]["id"] for event in events if event.get("type") == realtime.LIGHT_STATE]
        device_ids = [
            event["device"]["device_id"] for event in events if event.get("type") == realtime.DEVICE_PRESENCE
        ]
        if not light_ids and not device_ids:
            return
        # A fan-out's or a connect storm's events come 100 to a message: their lights, read at
        # once, are the current state of each, so one row per light is all there is to publish.
        rows = await database_sync_to_async(selectors.bridge_lights)(
            light_ids=light_ids, device_ids=device_ids
        )
        for row in rows:
            await self._publish_light(row)
        switched = self.adaptive.switched(
            [event["light"] for event in events if event.get("type") == realtime.LIGHT_STATE]
        )
        if switched:  # adaptive white: a light's switch changed (and so may its room's)
            await self.adaptive.sync(self._publish, light_ids=switched)

    async def _resync_periodically(self, channel: str | None) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds)
            await self._join_groups(channel)  # homes created since
            await self._sync_all()

    # ---- outbound --------------------------------------------------------------------------

    def _expected_configs(self) -> set[str]:
        return (
            {self.topics.light_config(i) for i in self._light_ids}
            | {self.topics.scene_config(i) for i in self._scene_ids}
            | self.adaptive.expected_configs()
        )

    async def _sync_all(self, *, force: bool = False) -> None:
        async with self._sync_lock:
            await self._sync_all_now(force=force)

    async def _sync_all_now(self, *, force: bool) -> None:
        lights = await database_sync_to_async(selectors.bridge_lights)()
        scenes = await database_sync_to_async(selectors.bridge_scenes)()
        gone_lights = self._light_ids - {row["id"] for row in lights}
        gone_scenes = self._scene_ids - {scene["id"] for scene in scenes}
        # Expected before publishing: the broker echoes our retained configs back, and one not
        # yet expected would be taken for a stale leftover and removed (handle_message).
        self._scene_ids = {scene["id"] for scene in scenes}
        for row in lights:
            await self._publish_light(row, force=force)
        for scene in scenes:
            config = discovery.scene_config_payload(self.topics, scene, self.hub_version)
            await self._publish(self.topics.scene_config(scene["id"]), discovery.encode(config), force=force)
        for light_id in gone_lights:
            self._light_ids.discard(light_id)
            for topic in (
                self.topics.light_config(light_id),
                self.topics.light_state(light_id),
                self.topics.light_availability(light_id),
            ):
                await self._publish(topic, "", force=True)  # an empty retained message removes it
        for scene_id in gone_scenes:
            await self._publish(self.topics.scene_config(scene_id), "", force=True)
        await self.adaptive.sync(self._publish, force=force)

    async def _publish_light(self, row: dict[str, Any], *, force: bool = False) -> None:
        light_id = row["id"]
        self._light_ids.add(light_id)
        config = discovery.light_config_payload(self.topics, row, self.hub_version, mireds=self.mireds)
        await self._publish(self.topics.light_config(light_id), discovery.encode(config), force=force)
        await self._publish(
            self.topics.light_availability(light_id), discovery.light_availability_payload(row), force=force
        )
        state = discovery.light_state_payload(row, mireds=self.mireds)
        if state is not None:
            await self._publish(self.topics.light_state(light_id), state, force=force)

    async def _publish(self, topic: str, payload: str, *, force: bool = False) -> None:
        """Publish retained, skipping a payload already sent on this topic in this session."""
        if not force and self._published.get(topic) == payload:
            return
        if self._client is None:
            raise aiomqtt.MqttError("not connected")
        await self._client.publish(topic, payload, qos=1, retain=True)
        self._published[topic] = payload


async def _first_failure(*coroutines: Any) -> None:
    """Run the coroutines together; when one ends (they never end normally), cancel the rest and raise."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
    for task in done:
        error = task.exception()
        if error is not None:
            raise error
    raise aiomqtt.MqttError("bridge session ended")
