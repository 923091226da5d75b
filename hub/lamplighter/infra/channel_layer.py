"""The embedded hub's channel layer: Channels' in-memory layer, with expiry done per channel.

Channels' InMemoryChannelLayer runs `_clean_expired()` (a scan of every channel and every
group) on each receive() and group_send(). Every consumer calls receive() when it starts and
after each message, so with N device sockets open each connect costs O(N): 10,000 sockets took
60 to 80 s to connect. This subclass keeps the same data, the same semantics and the same
public API, but expires lazily:

- receive() expires only the channel it reads; group_send() only the group it sends to (and
  the channels of its members);
- a channel is found in its groups through a reverse index, not by scanning every group;
- a full sweep (for channels nobody touches any more) runs at most once per `expiry` seconds,
  so its cost is amortised over every call in between; it also drops the empty queues nobody
  waits on, which the base class dropped after every message instead.

It also hands messages over as they are: the base class deep-copies every message it queues,
which took a tenth of the hub's CPU in a 1,000-device fan-out (bench/README.md). Every sender
here is the hub's own code, which builds each message for the send and never touches it
again, and every receiver only reads it, as it would read one the Redis layer decoded.

The Redis layer (several workers) is unaffected: it is chosen by REDIS_URL in settings.
"""

import asyncio
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

from lamplighter.infra import metrics


class LazyInMemoryChannelLayer(InMemoryChannelLayer):
    """InMemoryChannelLayer whose expiry work is proportional to the channel or group touched."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_groups: dict[str, set[str]] = {}
        self.next_full_clean = time.time() + self.expiry

    async def receive(self, channel: str) -> Any:
        """Receive the next message on a channel; expires only this channel's old messages."""
        self.require_valid_channel_name(channel)
        self._clean_channel(channel, time.time())
        self._maybe_full_clean()
        # The queue stays while its consumer lives (the base class dropped it whenever it ran
        # empty, so every message cost a new one); the full sweep drops those nobody reads.
        _, message = await self._queue(channel).get()
        return message

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Queue a message on a channel, handed over (not copied); ChannelFull when it holds `capacity`."""
        self.send_nowait(channel, message)

    def send_nowait(self, channel: str, message: dict[str, Any]) -> None:
        """send(), which never waits: callable from a plain callback on the layer's loop."""
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        try:
            self._queue(channel).put_nowait((time.time() + self.expiry, message))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None

    def _queue(self, channel: str) -> "asyncio.Queue[Any]":
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    async def group_add(self, group: str, channel: str) -> None:
        """Add a channel to a group (and remember the group on the channel's side)."""
        await super().group_add(group, channel)
        self.channel_groups.setdefault(channel, set()).add(group)

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove a channel from a group."""
        await super().group_discard(group, channel)
        groups = self.channel_groups.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                self.channel_groups.pop(channel, None)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        """Send to every channel of the group; expires only this group's members."""
        self.group_send_nowait(group, message)

    def group_send_nowait(self, group: str, message: dict[str, Any]) -> None:
        """group_send(), which never waits: the hub's sync code hands its sends to the loop as a
        plain callback, not a task per batch (realtime.group_send_many)."""
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        now = time.time()
        self._maybe_full_clean()
        members = self.groups.get(group)
        if not members:
            return
        oldest_join = int(now) - self.group_expiry
        for channel, joined in list(members.items()):
            if joined and joined < oldest_join:
                members.pop(channel, None)
                self._forget_membership(group, channel)
                continue
            self._clean_channel(channel, now)
        # Sent one by one, in order; a full channel is skipped, as in the base class.
        for channel in list(self.groups.get(group, {})):
            try:
                self.send_nowait(channel, message)
            except ChannelFull:
                metrics.CHANNEL_LAYER_ERRORS.inc()

    async def flush(self) -> None:
        """Forget every channel and group."""
        await super().flush()
        self.channel_groups = {}

    def _clean_channel(self, channel: str, now: float) -> None:
        """Drop a channel's expired messages; a channel that let one expire leaves its groups."""
        queue = self.channels.get(channel)
        if queue is None:
            return
        expired = False
        while not queue.empty() and queue._queue[0][0] < now:  # type: ignore[attr-defined]
            queue.get_nowait()
            expired = True
        if expired:
            self._remove_from_groups(channel)
            if queue.empty():
                self.channels.pop(channel, None)

    def _maybe_full_clean(self) -> None:
        now = time.time()
        if now >= self.next_full_clean:
            self.next_full_clean = now + self.expiry
            self._clean_expired()

    def _clean_expired(self) -> None:
        """The full sweep (every channel, every group); run at most once per expiry period."""
        now = time.time()
        for channel, queue in list(self.channels.items()):
            self._clean_channel(channel, now)
            if queue.empty() and not queue._getters and self.channels.get(channel) is queue:  # type: ignore[attr-defined]
                self.channels.pop(channel, None)  # its consumer is gone (or between two messages)
        oldest_join = int(now) - self.group_expiry
        for group, members in list(self.groups.items()):
            for channel, joined in list(members.items()):
                if joined and joined < oldest_join:
                    members.pop(channel, None)
                    self._forget_membership(group, channel)
            if not members:
                self.groups.pop(group, None)

    def _remove_from_groups(self, channel: str) -> None:
        """Remove a channel from all its groups, found through the reverse index."""
        for group in self.channel_groups.pop(channel, set()):
            members = self.groups.get(group)
            if members is not None:
                members.pop(channel, None)
                if not members:
                    self.groups.pop(group, None)

    def _forget_membership(self, group: str, channel: str) -> None:
        groups = self.channel_groups.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                self.channel_groups.pop(channel, None)
