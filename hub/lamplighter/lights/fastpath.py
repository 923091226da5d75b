"""POST /api/v1/lights/<id>/state with an API token, answered straight from ASGI.

It is the hub's hottest API call (every switch of every light by a script, a voice assistant
or a wall panel). Through Django's middleware chain under ASGI it crosses between the event
loop and worker threads three times (the middleware in one thread, the async handler core on
the loop, the view back in a thread), and each crossing can wait for the GIL's switch interval
while the loop serves other sockets: ~10 ms per call on 2 cores (bench/README.md). Here it
takes one crossing: authenticate, find the light, store the desired state, in one
call to the database thread (lamplighter.infra.dbthread).

Only the plain success is answered here: a request without a Bearer token (the dashboard's
session and CSRF), a body that is not a state this route reads (`on`, `brightness`,
`color_temp_kelvin`, `rgb`, `transition_ms`, each of its JSON type, nothing else), a token that
is refused, a light the caller cannot see or a state the light refuses goes on to Django with
its body untouched, so every error is Django's (django-ninja's) own answer. The API view in lights.api gives the same answer
for the same request (the tests check both).
"""

import json
import re
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.http.request import split_domain_port, validate_host
from ninja.responses import NinjaJSONEncoder

from lamplighter.infra import dbthread, realtime
from lamplighter.infra.api_types import MAX_DATABASE_ID
from lamplighter.infra.database_unavailable import database_unavailable_response

PATH = re.compile(r"/api/v1/lights/([1-9][0-9]{0,18})/state")
MAX_BODY = 1024  # bytes; a longer body goes to Django
# What Django's middleware adds to an API answer (SecurityMiddleware, XFrameOptionsMiddleware).
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def light_state_answer(
    authorization: str, light_id: int, on: bool | dict[str, Any], transition_ms: int | None = None
) -> dict[str, Any] | None:
    """The 202 body of a state call, or None when Django must answer (refused token, no such
    light, a state the light refuses). `on`: a bool, or the partial state asked for."""
    from lamplighter.accounts.services import api_token_of_active_user
    from lamplighter.lights import selectors, services
    from lamplighter.lights.api import LightOut
    from lamplighter.lights.state import LightStateError

    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    api_token = api_token_of_active_user(token=token)
    if api_token is None:
        return None
    # The command to the device and the dashboards' event: one hand-over to the loop, not two.
    state = {"on": on} if isinstance(on, bool) else on
    try:
        with realtime.sends_gathered():
            stored = services.light_set_desired_as_member(
                user_id=api_token.user_id, light_id=light_id, state=state, transition_ms=transition_ms
            )
    except LightStateError:  # rolled back: Django's view refuses it the same way, with its 422
        return None
    if stored is None:
        return None
    return LightOut.model_validate(selectors.light_payload(stored)).model_dump()


class LightStateRoute:
    """ASGI middleware: answers a token's POST /api/v1/lights/<id>/state itself, passes on the rest."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST" or int(match.group(1)) > MAX_DATABASE_ID:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        domain, _ = split_domain_port(headers.get(b"host", b"").decode("latin-1"))
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if (
            not authorization.lower().startswith("bearer ")
            or not domain
            or not validate_host(domain, settings.ALLOWED_HOSTS)
            or content_type != b"application/json"
        ):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        asked = _desired_state(body)
        answer = None
        if asked is not None:
            try:
                answer = await dbthread.run(light_state_answer, authorization, int(match.group(1)), *asked)
            except OperationalError as error:  # locked or restarting: rolled back, as Django says it
                response = database_unavailable_response(error)
                await _respond(send, response.status_code, response.content, list(response.items()))
                return
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        await _respond(send, 202, json.dumps(answer, cls=NinjaJSONEncoder).encode())


async def _read_body(receive: Any) -> tuple[list[dict[str, Any]], bytes | None]:
    """The request's messages as received, and its body (None when longer than MAX_BODY or cut off)."""
    messages: list[dict[str, Any]] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return messages, None
        if not message.get("more_body"):
            return messages, body


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """A receive() that gives back what was already read, then carries on."""
    pending = list(messages)

    async def replay() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()  # type: ignore[no-any-return]

    return replay


def _desired_state(body: bytes | None) -> tuple[dict[str, Any], int | None] | None:
    """(the partial state, transition_ms) of a body this route answers, else None (Django answers).

    Fields the API's schema does not know are ignored, as the schema does; each known field must
    have its JSON type (its range is the service's check, whose refusal also goes to Django).
    """
    if not body:
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    state: dict[str, Any] = {}
    for key, kind in _FIELD_TYPES:
        value = payload.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return None
        state[key] = value
    rgb = state.get("rgb")
    if rgb is not None and (len(rgb) != 3 or not all(type(channel) is int for channel in rgb)):
        return None
    transition = payload.get("transition_ms")
    if transition is not None and type(transition) is not int:
        return None
    return (state, transition) if state else None


_FIELD_TYPES = (("on", bool), ("brightness", int), ("color_temp_kelvin", int), ("rgb", list))


async def _respond(
    send: Any, status: int, payload: bytes, headers: list[tuple[str, str]] | None = None
) -> None:
    if headers is None:
        out = [(b"content-type", b"application/json; charset=utf-8"), *SECURITY_HEADERS]
    else:
        out = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    out.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": payload})
