"""The hub's middleware chain, async from end to end, and its 503 for an unavailable database
(lamplighter.infra.database_unavailable).

Django's own middleware classes are async-capable, but in async mode their MiddlewareMixin hands
every process_request and process_response to a worker thread (two crossings each, ~16 per
request for the chain). Those methods only read and write headers and cookies, so the classes
below run them on the event loop; work that touches the database (saving a session, messages
kept in the session) goes to the database thread (lamplighter.infra.dbthread), as one hand-over.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions_middleware
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import clickjacking, common, csrf, locale, security
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject, empty
from django.utils.module_loading import import_string

from lamplighter.infra import dbthread
from lamplighter.infra.database_unavailable import database_unavailable_response


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turns OperationalError/InterfaceError from any view into a clear 503 (the transaction was rolled back)."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Runs when a view raised: only database availability errors are answered here."""
        if isinstance(exception, OperationalError | InterfaceError):
            return database_unavailable_response(exception)
        return None


class OnLoopMixin:
    """Runs a Django middleware's hooks on the event loop in async mode (they do no I/O)."""

    async_mode: bool

    def __init__(self, get_response: Any) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        process_view = getattr(super(), "process_view", None)
        if self.async_mode and process_view is not None:
            # The handler would hand a sync process_view to a thread: give it a coroutine instead.
            async def process_view_on_loop(*args: Any) -> HttpResponseBase | None:
                return process_view(*args)  # type: ignore[no-any-return]

            setattr(self, "process_view", process_view_on_loop)  # noqa: B010 - an instance attribute over the method

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self._call_on_loop(request)
        return super().__call__(request)  # type: ignore[misc]

    async def _call_on_loop(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request) if hasattr(self, "process_request") else None
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response  # type: ignore[attr-defined]
        response = response or await get_response(request)
        if hasattr(self, "process_response"):
            response = await self.respond(request, response)
        return response  # type: ignore[no-any-return]

    async def respond(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """process_response, on the loop (overridden where it may touch the database)."""
        return self.process_response(request, response)  # type: ignore[attr-defined,no-any-return]


class SecurityMiddleware(OnLoopMixin, security.SecurityMiddleware):
    """Django's SecurityMiddleware (HSTS, SSL redirect, nosniff, referrer and opener policies), on the loop."""


class SessionMiddleware(OnLoopMixin, sessions_middleware.SessionMiddleware):
    """Django's SessionMiddleware; the session store is made when first used (a device's poll
    or a token's API call never does), read lazily, and saved in the database thread."""

    def process_request(self, request: HttpRequest) -> None:
        """The request's session, made on first use."""
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        request.session = SimpleLazyObject(lambda: self.SessionStore(session_key))  # type: ignore[assignment]

    async def respond(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """process_response in the database thread only when the session must be saved."""
        session = request.session
        if getattr(session, "_wrapped", None) is empty and not settings.SESSION_SAVE_EVERY_REQUEST:
            return response  # never used: Django's process_response would change nothing
        if session.modified or settings.SESSION_SAVE_EVERY_REQUEST:
            return await dbthread.run(self.process_response, request, response)  # type: ignore[arg-type]
        return self.process_response(request, response)  # type: ignore[arg-type]


class LocaleMiddleware(OnLoopMixin, locale.LocaleMiddleware):
    """Django's LocaleMiddleware (the browser's language), on the loop.

    Without i18n_patterns (the hub has none) Django still looks for a language prefix in every
    path, twice per request, to use it only with them: the hooks below skip that look and do the
    rest exactly as Django's (tests compare both)."""

    def process_request(self, request: HttpRequest) -> None:
        """The language of the request, activated."""
        if _prefix_patterns_used(request):
            return super().process_request(request)  # type: ignore[no-any-return]
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """Vary: Accept-Language and Content-Language, as Django's."""
        if _prefix_patterns_used(request):
            return super().process_response(request, response)  # type: ignore[no-any-return]
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _prefix_patterns_used(request: HttpRequest) -> bool:
    return bool(is_language_prefix_patterns_used(getattr(request, "urlconf", settings.ROOT_URLCONF))[0])


class CommonMiddleware(OnLoopMixin, common.CommonMiddleware):
    """Django's CommonMiddleware (host check, trailing slash), on the loop."""


class CsrfViewMiddleware(OnLoopMixin, csrf.CsrfViewMiddleware):
    """Django's CsrfViewMiddleware (the token lives in a cookie, not the session), on the loop."""


class AuthenticationMiddleware(OnLoopMixin, auth_middleware.AuthenticationMiddleware):
    """Django's AuthenticationMiddleware (request.user, read lazily), on the loop."""


class MessageMiddleware(OnLoopMixin, messages_middleware.MessageMiddleware):
    """Django's MessageMiddleware; the storage is made when first used (a device's poll or an API
    call never does), and messages are stored in the database thread when there are any."""

    def process_request(self, request: HttpRequest) -> None:
        """The message storage, made on first use."""
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    async def respond(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """process_response in the database thread only when messages were added or shown."""
        storage = getattr(request, "_messages", None)
        if storage is None or storage._wrapped is empty:
            return response  # nobody asked for messages: nothing to store
        if storage.used or storage.added_new:
            return await dbthread.run(self.process_response, request, response)  # type: ignore[arg-type]
        return self.process_response(request, response)  # type: ignore[arg-type]


class XFrameOptionsMiddleware(OnLoopMixin, clickjacking.XFrameOptionsMiddleware):
    """Django's XFrameOptionsMiddleware, on the loop."""


# Django's deployment checks security.W001-W003 look for its own class paths in MIDDLEWARE; the
# chain holds the on-loop subclasses above, so those three are silenced (settings) and checked
# here instead, for the class or any subclass of it.
_REQUIRED = {
    "W001": security.SecurityMiddleware,
    "W002": clickjacking.XFrameOptionsMiddleware,
    "W003": csrf.CsrfViewMiddleware,
}


@register(Tags.security, deploy=True)
def check_security_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """security.W001-W003 for the chain: SecurityMiddleware, XFrameOptionsMiddleware and
    CsrfViewMiddleware (Django's or a subclass) are in MIDDLEWARE."""
    classes = [import_string(path) for path in settings.MIDDLEWARE]
    return [
        Warning(
            f"MIDDLEWARE has no {required.__module__}.{required.__name__} (nor a subclass of it): "
            "its headers and checks are missing from every answer",
            id=f"lamplighter.{code}",
        )
        for code, required in _REQUIRED.items()
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in classes)
    ]
