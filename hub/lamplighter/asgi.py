"""ASGI entry point: Django for HTTP (every request through its middleware and URL routing),
Channels for the device and dashboard WebSockets."""

import asyncio
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import signals  # noqa: E402
from django.core.cache import caches, close_caches  # noqa: E402
from django.core.cache.backends.base import BaseCache  # noqa: E402
from django.core.exceptions import RequestAborted  # noqa: E402
from django.core.handlers.asgi import (  # noqa: E402
    ASGIHandler,
    ASGIRequest,
    get_script_prefix,  # noqa: E402
)
from django.db import close_old_connections, reset_queries  # noqa: E402
from django.http import HttpResponseBase  # noqa: E402
from django.urls import set_script_prefix  # noqa: E402

from lamplighter.serving.health import PROBE_PATHS  # noqa: E402
from lamplighter.serving.lifespan import LifespanApp  # noqa: E402
from lamplighter.serving.routing import websocket_application  # noqa: E402 - needs Django set up first


class HubRequest(ASGIRequest):
    """A request whose host is checked against ALLOWED_HOSTS, except a liveness or readiness
    probe's (an orchestrator knows only the address)."""

    def get_host(self) -> str:
        """The host, validated (DisallowedHost: 400) unless this is a probe."""
        if self.path in PROBE_PATHS:
            return self._get_raw_host()  # type: ignore[attr-defined,no-any-return]
        return super().get_host()


class HubASGIHandler(ASGIHandler):
    """Django's ASGI handler without a thread of its own per request.

    Django gives each request a ThreadSensitiveContext, so its sync work (a sync view, closing
    the response) runs in a new thread with a new database connection (SQLite: four PRAGMAs,
    ~1 ms). Here it all runs in the one database thread that consumers and lamplighter.infra.dbthread
    use: its connection is kept (CONN_MAX_AGE), and old ones are closed around each call there.
    """

    request_class = HubRequest

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one HTTP request."""
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}")
        await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django 5.2's ASGIHandler.handle, with the response closed on the loop and the client's
        disconnect watched only once a request runs long.

        Django closes the response through sync_to_async: a hand-over to the database thread and
        back for every request, only to send request_finished, whose receivers here do no I/O
        (the connections' closing is the database thread's, see below). Django also runs every
        request as a second task beside one waiting for the client to go away; for the hub's
        answers of a millisecond or less those two tasks cost more than the view. A request
        still running after DISCONNECT_WATCH_SECONDS gets that watcher, so a client that leaves a
        slow answer (a backup download, a firmware upload) still cancels it, as in Django."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await signals.request_started.asend(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # Django gives one when it makes no request
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return
        watch = _DisconnectWatch(receive)
        response: HttpResponseBase | None = None
        try:
            response = await self.run_get_response(request)
            await self.send_response(response, send)
        except asyncio.CancelledError:
            if not watch.client_left():
                raise  # the server's own cancellation (shutdown)
            if response is None:
                await signals.request_finished.asend(sender=self.__class__)
        finally:
            watch.stop()
            body_file.close()
        if response is not None:
            response.close()


DISCONNECT_WATCH_SECONDS = 0.25


class _DisconnectWatch:
    """Cancels the running request's task when its client disconnects, watching from
    DISCONNECT_WATCH_SECONDS on (a timer costs a fraction of a task)."""

    def __init__(self, receive: Any) -> None:
        self.receive = receive
        self.task = asyncio.current_task()
        self.watcher: asyncio.Task[None] | None = None
        self.left = False
        self.timer = asyncio.get_running_loop().call_later(DISCONNECT_WATCH_SECONDS, self._start)

    def _start(self) -> None:
        self.watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        message = await self.receive()
        if message["type"] == "http.disconnect" and self.task is not None:
            self.left = True
            self.task.cancel()

    def client_left(self) -> bool:
        """Whether the cancellation came from here; then it is taken back (the task goes on)."""
        if self.left and self.task is not None:
            self.task.uncancel()
        return self.left

    def stop(self) -> None:
        """The request is answered: no more watching."""
        self.timer.cancel()
        if self.watcher is not None:
            self.watcher.cancel()


# The database thread closes old connections around each call itself (dbthread, Channels); on
# request start and end the loop has none, and asking would cost a thread hand-over each. Nor
# does it log queries (DEBUG off), so nothing to reset either.
signals.request_started.disconnect(close_old_connections)
signals.request_finished.disconnect(close_old_connections)
signals.request_started.disconnect(reset_queries)
# Nor do the hub's caches keep anything per request (in-process, or Redis through its pool): their
# close() is Django's no-op, which request_finished would call for every answer.
if all(type(caches[alias]).close is BaseCache.close for alias in settings.CACHES):
    signals.request_finished.disconnect(close_caches)

application = LifespanApp(ProtocolTypeRouter({"http": HubASGIHandler(), "websocket": websocket_application}))
