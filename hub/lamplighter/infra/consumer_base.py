"""What the hub's WebSocket consumers share: Channels' message loop, without its per-message costs."""

import asyncio
import functools
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer


class LeanDispatch:
    """Channels' AsyncConsumer.__call__ and dispatch, same semantics, less work per message.

    - Channels' loop (await_many_dispatch) makes a new task for each message and an
      asyncio.wait over the socket's and the channel layer's reads: in a connect storm of
      thousands of devices that was a fifth of the event loop's work (bench/README.md). Here
      each source has one long-lived reader, and a lock hands out turns: still one message
      handled at a time, each source in order, at most one message read ahead per source.
    - Channels' dispatch runs close_old_connections in the one shared sync thread before
      *every* message (each frame from a device, each heartbeat, each command to a device, each
      event to a dashboard): a crossing to that thread and back per message, queued behind its
      ORM work. The hub's consumers never touch the database on the loop: their queries go
      through the database thread, which closes old connections around each call.
    """

    channel_layer_alias: str
    channel_layer: Any
    channel_name: str
    channel_receive: Any
    base_send: Any
    scope: dict[str, Any]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the consumer until its socket is gone (StopConsumer) or a handler fails."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        turn = asyncio.Lock()
        readers = [asyncio.ensure_future(self._read_and_dispatch(source, turn)) for source in sources]
        try:
            done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for reader in done:
            error = reader.exception()
            if error is not None and not isinstance(error, StopConsumer):
                raise error

    async def _read_and_dispatch(self, source: Any, turn: asyncio.Lock) -> None:
        while True:
            message = await source()
            async with turn:
                await self.dispatch(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler of this message type (as Channels does)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
