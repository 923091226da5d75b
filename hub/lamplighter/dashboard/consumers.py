"""The dashboard WebSocket: pushes light and device events of the user's homes to the browser."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from lamplighter import realtime
from lamplighter.consumer_base import LeanDispatch
from lamplighter.homes.selectors import home_ids_for_user


class DashboardConsumer(LeanDispatch, AsyncJsonWebsocketConsumer):
    """One browser tab; read-only: changes go through the REST API, results come back here."""

    groups_joined: list[str]

    async def connect(self) -> None:
        """Runs on the handshake (Origin already checked): logged-in users only."""
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        for home_id in await database_sync_to_async(home_ids_for_user)(user=user):
            group = realtime.home_group(home_id)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        """Runs when the tab closes or the connection drops."""
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Runs for each frame; binary frames are ignored (the JSON base class would raise on them)."""
        if text_data:
            await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Browsers only ping, to notice a dead connection; anything else is ignored."""
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def home_event(self, message: dict[str, Any]) -> None:
        """Runs for realtime.HOME_EVENT: forward its browser events in one frame, in order.

        A lone event is its own frame (an object); several are one frame holding their list: a
        1,000-light fan-out's 2,000 events are 20 frames, not 2,000 sends on the hub's loop and
        2,000 messages for the browser to parse.
        """
        events = message["events"]
        await self.send_json(events[0] if len(events) == 1 else events)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Malformed frames are ignored rather than closing the socket with a traceback."""
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None
