"""The device WebSocket: thin; protocol parsing and handling live in devices.handlers."""

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import transaction

from lamplighter.devices import services
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.gateway import handlers
from lamplighter.gateway import services as exchange
from lamplighter.gateway.socket_auth import authorization_of, authorize_and_record
from lamplighter.infra import dbbatch, metrics, realtime
from lamplighter.infra.consumer_base import LeanDispatch

logger = logging.getLogger(__name__)


class DeviceConsumer(LeanDispatch, AsyncWebsocketConsumer):
    """One device's live connection, authenticated by its Basic credentials on the handshake."""

    device: Device | None = None

    async def connect(self) -> None:
        """Runs on the handshake: refuse unknown credentials, else join the device's group."""
        # Batched with other sockets' database work (a connect storm authenticates thousands).
        self.device = await dbbatch.run(
            authorize_and_record, *authorization_of(self.scope), self.channel_name
        )
        if self.device is None:
            await self.close()
            return
        device_id = self.device.device_id
        # A newer connection replaces an older one (the device rebooted, the network changed):
        # its disconnect leaves this socket's record alone (services.device_disconnected).
        await self.channel_layer.group_send(realtime.device_group(device_id), {"type": realtime.DEVICE_CLOSE})
        await self.channel_layer.group_add(realtime.device_group(device_id), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """Runs when the socket closed, whoever closed it."""
        if self.device is None:
            return
        await self.channel_layer.group_discard(
            realtime.device_group(self.device.device_id), self.channel_name
        )
        await dbbatch.run(services.device_disconnected, device=self.device, channel_name=self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Runs for each frame from the device."""
        if self.device is None:
            return
        raw = text_data if text_data is not None else (bytes_data or b"")
        try:
            message = protocol.parse(raw, protocol.DEVICE_MESSAGE_TYPES)
        except protocol.ProtocolError:
            metrics.device_message_received(metrics.TRANSPORT_WEBSOCKET, "invalid")
            # The handlers answer with the reject (and log it).
            replies, _ = await database_sync_to_async(handlers.receive)(
                self.device, raw, Device.Connection.WEBSOCKET
            )
        else:
            kind = message["type"]
            metrics.device_message_received(metrics.TRANSPORT_WEBSOCKET, kind)
            if kind == protocol.HEARTBEAT_PING and services.device_seen_recently(
                device=self.device, connection=Device.Connection.WEBSOCKET
            ):
                # Nothing to write (presence writes are throttled): answer on the event loop, so
                # 10,000 devices' heartbeats do not queue in the one database thread ahead of
                # their state reports.
                replies = [protocol.build_heartbeat_pong()]
            elif kind == protocol.STATE_REPORT:
                replies = await report_batch(self.device, message["data"])
            else:
                # A hello (thousands at once after a hub restart), a log batch, an OTA message.
                replies = await dbbatch.run(
                    handlers.dispatch, self.device, message, Device.Connection.WEBSOCKET
                )
        for reply in replies:
            metrics.device_message_sent(metrics.TRANSPORT_WEBSOCKET, reply["type"])
            await self.send(text_data=protocol.encode(reply))

    async def device_deliver(self, event: dict[str, Any]) -> None:
        """Runs for realtime.DEVICE_DELIVER: forward a hub message to the device."""
        metrics.device_message_sent(metrics.TRANSPORT_WEBSOCKET, event["message"]["type"])
        await self.send(text_data=protocol.encode(event["message"]))

    async def device_close(self, event: dict[str, Any]) -> None:
        """Runs for realtime.DEVICE_CLOSE: a newer socket took over, or the secret changed."""
        await self.close(code=4000)


# ---- state reports of many sockets, written together ------------------------------------------

REPORT_BATCH_MAX = 500


def _write_reports(reports: list[tuple[Device, dict[str, Any]]]) -> list[dbbatch.Outcome]:
    """State reports of many sockets in one transaction: when a fan-out reaches 1,000 devices,
    their 1,000 acks cost a few transactions, not 1,000. If the batch fails, one by one, so one
    bad report does not fail the others."""
    connection = Device.Connection.WEBSOCKET
    try:
        with transaction.atomic():
            results = exchange.device_reports_many(
                reports=[(device, data, connection) for device, data in reports]
            )
        return [(True, result) for result in results]
    except Exception:  # noqa: BLE001, S110 - retried one by one below
        pass
    outcomes: list[dbbatch.Outcome] = []
    for device, data in reports:
        try:
            with transaction.atomic():
                outcomes.append(
                    (True, exchange.device_report(device=device, data=data, connection=connection))
                )
        except Exception as error:  # noqa: BLE001 - handed to that report's socket
            outcomes.append((False, error))
    return outcomes


_reports = dbbatch.Gatherer(_write_reports, limit=REPORT_BATCH_MAX)


async def report_batch(device: Device, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Write a state.report (with those of other sockets waiting too); return the replies."""
    return await _reports.submit((device, data))  # type: ignore[no-any-return]
