"""The chain's SessionMiddleware makes the session store only when a view uses it, and answers
as Django's does: nothing added for an untouched session, with or without a session cookie."""

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangosSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from lamplighter.serving.middleware import SessionMiddleware

pytestmark = pytest.mark.django_db


def _request(cookie: str | None) -> HttpRequest:
    request = RequestFactory().get("/lights_status/")
    if cookie is not None:
        request.COOKIES[settings.SESSION_COOKIE_NAME] = cookie
    return request


def _answer(response: HttpResponse) -> tuple:
    return sorted(response.items()), sorted((k, str(v)) for k, v in response.cookies.items())


@pytest.mark.parametrize("cookie", [None, "no-such-session-key-0123456789abcdef"])
async def test_an_untouched_session_adds_nothing_as_djangos(cookie: str | None) -> None:
    ours = SessionMiddleware(lambda request: HttpResponse("x"))
    request = _request(cookie)
    ours.process_request(request)
    answered = await ours.respond(request, HttpResponse("x"))

    djangos = DjangosSessionMiddleware(lambda request: HttpResponse("x"))
    plain = _request(cookie)
    djangos.process_request(plain)
    assert _answer(answered) == _answer(djangos.process_response(plain, HttpResponse("x")))  # type: ignore[arg-type]


@pytest.mark.django_db(transaction=True)  # saved by the database thread: no test transaction around it
async def test_a_used_session_is_made_and_saved() -> None:
    ours = SessionMiddleware(lambda request: HttpResponse("x"))
    request = _request(None)
    ours.process_request(request)
    request.session["seen"] = True
    answered = await ours.respond(request, HttpResponse("x"))
    assert settings.SESSION_COOKIE_NAME in answered.cookies
    assert "Cookie" in answered["Vary"]
