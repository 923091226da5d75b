"""lamplighter.asgi.HubASGIHandler: answers without a second task, and a client that leaves a
slow answer still cancels it (Django's behaviour), while the server's own cancellation passes."""

import asyncio
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from lamplighter import asgi

# Django's test client connects close_old_connections to the request signals again.
pytestmark = pytest.mark.django_db

events: list[str] = []


async def slow_view(request: HttpRequest) -> HttpResponse:
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        events.append("cancelled")
        raise
    return HttpResponse("late")


async def fast_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("slow/", slow_view), path("fast/", fast_view)]


def _scope(route: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


class Client:
    """The server's side of one request: the body, then a disconnect `leave_after` seconds on."""

    def __init__(self, leave_after: float | None) -> None:
        self.leave_after = leave_after
        self.sent: list[dict[str, Any]] = []
        self.body_given = False
        self.receives = 0

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        if not self.body_given:
            self.body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self.leave_after is None:
            await asyncio.Event().wait()  # never leaves
        await asyncio.sleep(self.leave_after)  # type: ignore[arg-type]
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


@pytest.fixture(autouse=True)
def _urls() -> Any:
    events.clear()
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["localhost"]):
        yield


async def test_a_fast_answer_is_sent_without_watching_the_client() -> None:
    client = Client(leave_after=None)
    await asgi.HubASGIHandler()(_scope("/fast/"), client.receive, client.send)
    assert client.sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in client.sent[1:]) == b"ok"
    assert client.receives == 1  # only the body: no disconnect watcher was started


async def test_a_client_leaving_a_slow_answer_cancels_it() -> None:
    client = Client(leave_after=0.1)
    # The view sleeps 5 s: only the watcher's cancellation ends the request before the guard's 3 s.
    await asyncio.wait_for(asgi.HubASGIHandler()(_scope("/slow/"), client.receive, client.send), 3)
    assert events == ["cancelled"]
    assert client.sent == []  # nothing to send to a client that left
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr] # taken back


async def test_the_servers_own_cancellation_is_not_swallowed() -> None:
    client = Client(leave_after=None)
    task = asyncio.ensure_future(asgi.HubASGIHandler()(_scope("/slow/"), client.receive, client.send))
    await asyncio.sleep(asgi.DISCONNECT_WATCH_SECONDS + 0.1)  # the watcher runs too
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events == ["cancelled"]


def test_no_cache_is_closed_after_each_answer() -> None:
    from django.core import signals
    from django.core.cache import close_caches

    # The hub's cache backends close nothing; the receiver would only cost each answer time.
    receivers = signals.request_finished._live_receivers(None)[0]
    assert close_caches not in receivers
