"""What the hub's WebSocket consumers share: dispatch without a database-thread crossing per message."""

from typing import Any

from channels.consumer import get_handler_name


class NoConnectionCloseDispatch:
    """Channels' AsyncConsumer.dispatch, without its `await aclose_old_connections()`.

    Channels runs close_old_connections in the one shared sync thread before *every* message a
    consumer handles (each frame from a device, each heartbeat, each event to a dashboard, each
    command to a device): one crossing from the event loop to that thread and back per message,
    queued behind whatever ORM work the thread is doing. A fan-out to 1,000 devices made 2,000 of
    them. The hub's consumers never touch the database on the loop: all their queries go through
    database_sync_to_async, which closes old connections in the thread around each call, so the
    extra crossing bought nothing.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler of this message type (as Channels does)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
