"""ASGI entry point: Django for HTTP (every request through its middleware and URL routing),
Channels for the device and dashboard WebSockets."""

import asyncio
import contextlib
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core import signals  # noqa: E402
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
        """Django 5.2's ASGIHandler.handle, but the response is closed on the loop.

        Django closes it through sync_to_async: a hand-over to the database thread and back for
        every request, only to send request_finished, whose receivers here do no I/O (the
        connections' closing is the database thread's, see below)."""
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

        async def process_request() -> HttpResponseBase:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client went away while sending
                await self.send_response(response, send)
            return response

        # A client that disconnects while the response is made cancels it (as in Django).
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if response is not None:
                response.close()
        body_file.close()


# The database thread closes old connections around each call itself (dbthread, Channels); on
# request start and end the loop has none, and asking would cost a thread hand-over each. Nor
# does it log queries (DEBUG off), so nothing to reset either.
signals.request_started.disconnect(close_old_connections)
signals.request_finished.disconnect(close_old_connections)
signals.request_started.disconnect(reset_queries)

application = LifespanApp(ProtocolTypeRouter({"http": HubASGIHandler(), "websocket": websocket_application}))
