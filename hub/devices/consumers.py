"""The device WebSocket: thin; protocol parsing and handling live in devices.handlers."""

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from devices import handlers, services
from devices.models import Device
from firmware import protocol
from lamplighter import realtime

logger = logging.getLogger(__name__)


class DeviceConsumer(AsyncWebsocketConsumer):
    """One device's live connection; scope["device"] is set by DeviceAuthMiddleware."""

    device: Device | None = None

    async def connect(self) -> None:
        """Runs on the handshake: refuse unknown credentials, else join the device's group."""
        self.device = self.scope.get("device")
        if self.device is None:
            await self.close()
            return
        device_id = self.device.device_id
        # A newer connection replaces an older one (the device rebooted, the network changed).
        await self.channel_layer.group_send(realtime.device_group(device_id), {"type": realtime.DEVICE_CLOSE})
        await self.channel_layer.group_add(realtime.device_group(device_id), self.channel_name)
        await self.accept()
        await database_sync_to_async(services.device_seen)(
            device=self.device, connection=Device.Connection.WEBSOCKET, channel_name=self.channel_name
        )

    async def disconnect(self, code: int) -> None:
        """Runs when the socket closed, whoever closed it."""
        if self.device is None:
            return
        await self.channel_layer.group_discard(
            realtime.device_group(self.device.device_id), self.channel_name
        )
        await database_sync_to_async(services.device_disconnected)(
            device=self.device, channel_name=self.channel_name
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Runs for each frame from the device."""
        if self.device is None:
            return
        raw = text_data if text_data is not None else (bytes_data or b"")
        if self._is_heartbeat(raw) and services.device_seen_recently(
            device=self.device, connection=Device.Connection.WEBSOCKET
        ):
            # Nothing to write (presence writes are throttled): answer on the event loop, so
            # 10,000 devices' heartbeats do not queue in the one database thread ahead of
            # their state reports.
            await self.send(text_data=protocol.encode(protocol.build_heartbeat_pong()))
            return
        replies, _ = await database_sync_to_async(handlers.receive)(
            self.device, raw, Device.Connection.WEBSOCKET
        )
        for reply in replies:
            await self.send(text_data=protocol.encode(reply))

    @staticmethod
    def _is_heartbeat(raw: str | bytes) -> bool:
        """A well-formed heartbeat.ping (anything else goes through the handlers, rejects included)."""
        try:
            return protocol.parse(raw, protocol.DEVICE_MESSAGE_TYPES)["type"] == protocol.HEARTBEAT_PING
        except protocol.ProtocolError:
            return False

    async def device_deliver(self, event: dict[str, Any]) -> None:
        """Runs for realtime.DEVICE_DELIVER: forward a hub message to the device."""
        await self.send(text_data=protocol.encode(event["message"]))

    async def device_close(self, event: dict[str, Any]) -> None:
        """Runs for realtime.DEVICE_CLOSE: a newer socket took over, or the secret changed."""
        await self.close(code=4000)
