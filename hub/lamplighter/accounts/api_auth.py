"""Who calls the REST API: a personal API token, or the browser's session (with its CSRF token).

In a sync operation both answer at once, as django-ninja expects. In an async operation (the hot
light state call) nothing is read from the database on the event loop: the token is only taken
from the header, and caller_user_id checks it inside the view's one hand-over to the database
thread; the session's user was read with the user's language (accounts.middleware).
"""

import asyncio
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import security
from ninja.errors import AuthenticationError

from lamplighter.accounts.services import api_token_authenticate, api_token_of_active_user


class PendingToken:
    """A bearer token taken from the header of an async operation, checked by caller_user_id."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token


def _on_loop() -> bool:
    """Whether this runs on the event loop (an async operation) rather than in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class ApiTokenAuth(security.HttpBearer):
    """Personal API tokens: `Authorization: Bearer <token>`."""

    def __init__(self) -> None:
        super().__init__()
        self.is_async = True  # django-ninja then calls it in place in both kinds of operation (see __call__)
        # The header as Django's META names it: request.headers would map every header for this one.
        self.meta_key = "HTTP_" + self.header.upper().replace("-", "_")

    def __call__(self, request: HttpRequest) -> Any:
        """The token's user (sync operation), or a PendingToken to check later (async operation)."""
        if not _on_loop():
            return super().__call__(request)
        return self._pending(request)

    async def _pending(self, request: HttpRequest) -> PendingToken | None:
        value = request.META.get(self.meta_key)
        if not value:
            return None
        scheme, *token = value.split(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return PendingToken(" ".join(token))

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """Return the token's user, or None to refuse."""
        api_token = api_token_authenticate(token=token)
        if api_token is None:
            return None
        request.user = api_token.user
        return api_token.user


class SessionAuth(security.SessionAuth):
    """The browser's session; a state-changing call also needs the CSRF token (403 otherwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.is_async = True  # as ApiTokenAuth

    def __call__(self, request: HttpRequest) -> Any:
        """The session's user, or None; in an async operation read without a database hand-over."""
        if not _on_loop():
            return super().__call__(request)
        return self._on_loop(request)

    async def _on_loop(self, request: HttpRequest) -> Any:
        self._get_key(request)  # the CSRF check: HttpError 403 when it fails (no database)
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        user = await request.auser()  # read already, with the user's language: no hand-over
        return user if user.is_authenticated else None


def caller_user_id(request: HttpRequest) -> int:
    """The id of the user calling an async operation, its token checked here (call it in the
    database thread); AuthenticationError (401) when the token is refused and no session is
    logged in, as the sync operations answer."""
    caller = getattr(request, "auth", None)
    if isinstance(caller, PendingToken):
        api_token = api_token_of_active_user(token=caller.token)
        if api_token is not None:
            return api_token.user_id
        user = SessionAuth()(request)  # the next way in, as in a sync operation (CSRF: 403)
        if not user:
            raise AuthenticationError()
        request.auth = user  # type: ignore[attr-defined]
        return int(user.pk)
    if caller is None or not getattr(caller, "is_authenticated", False):
        raise AuthenticationError()
    return int(caller.pk)
