"""LAN push: call a device's own /control_led, for devices with no WebSocket to the hub.

Pushes run as tasks on the hub's event loop (started by the ASGI lifespan); from code with
no hub loop (CLI, tests without a server) they run at once, synchronously.
"""

import asyncio
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from lamplighter import metrics
from lamplighter.firmware import protocol

logger = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
_tasks: set[asyncio.Task[bool]] = set()
_lock = threading.Lock()


def is_pushable_url(url: str) -> bool:
    """True when the URL is an http(s) address the hub may call."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _requests(lan_url: str, entries: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    url = lan_url.rstrip("/") + protocol.DEVICE_CONTROL_PATH
    return [(url, control_params(entry)) for entry in entries]


def control_params(entry: dict[str, Any]) -> dict[str, str]:
    """The /control_led query of one wire entry: action, version, and the brightness, colour,
    transition and adaptive fields it carries (an older device was given an entry without them)."""
    return protocol.entry_query(entry)  # type: ignore[no-any-return]


async def push(*, lan_url: str, lan_token: str, entries: list[dict[str, Any]]) -> bool:
    """Push each entry to the device; True when every call was accepted."""
    if not is_pushable_url(lan_url):
        return False
    auth = httpx.BasicAuth(protocol.HUB_LAN_USER, lan_token)
    accepted = True
    async with httpx.AsyncClient(timeout=settings.LAMPLIGHTER_LAN_PUSH_TIMEOUT, auth=auth) as client:
        for url, params in _requests(lan_url, entries):
            metrics.device_message_sent(metrics.TRANSPORT_LAN, "control_led")
            try:
                response = await client.get(url, params=params)
                accepted = accepted and response.status_code == 200
                if response.status_code != 200:
                    logger.warning("LAN push to %s refused: HTTP %s", lan_url, response.status_code)
            except httpx.HTTPError as error:
                logger.warning("LAN push to %s failed: %s", lan_url, type(error).__name__)
                accepted = False
    if not accepted:
        metrics.DELIVERY_FAILURES.labels("lan").inc()
    return accepted


def submit(*, lan_url: str, lan_token: str, entries: list[dict[str, Any]]) -> None:
    """Start a push in the background on the hub's loop (or run it now when there is none)."""
    with _lock:
        loop = _loop
    if loop is None or loop.is_closed():
        asyncio.run(push(lan_url=lan_url, lan_token=lan_token, entries=entries))
        return

    def start() -> None:
        task = loop.create_task(push(lan_url=lan_url, lan_token=lan_token, entries=entries))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    loop.call_soon_threadsafe(start)


def attach(loop: asyncio.AbstractEventLoop | None) -> None:
    """Tell the module which event loop runs pushes (None when the hub stops)."""
    global _loop
    with _lock:
        _loop = loop
