"""Shows a logged-in user's pages in the language they chose (after LocaleMiddleware and auth)."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.decorators import sync_and_async_middleware

from lamplighter.accounts.selectors import preference_language
from lamplighter.infra import dbthread


def _has_session(request: HttpRequest) -> bool:
    # Devices and API tokens send no session cookie: they never pay for the lookup.
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _activate(request: HttpRequest, language: str) -> None:
    if language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language


def _user_and_language(request: HttpRequest) -> str:
    """The session, its user and their language, read together (the database thread)."""
    language = preference_language(user=request.user)  # reads the lazy user: session and user here
    request._acached_user = request.user  # type: ignore[attr-defined] # what request.auser() returns
    return language


@sync_and_async_middleware
def user_language_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """The user's chosen language wins over the browser's; without a choice LocaleMiddleware's stays."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            if _has_session(request):
                # One hand-over for the session, the user and the preference (cached).
                _activate(request, await dbthread.run(_user_and_language, request))
            response: Awaitable[HttpResponse] = get_response(request)
            return await response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        if _has_session(request):
            _activate(request, preference_language(user=request.user))
        response: HttpResponse = get_response(request)
        return response

    return middleware
