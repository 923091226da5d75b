"""The chain's LocaleMiddleware gives what Django's gives: the same language activated, the same
Vary and Content-Language, for browsers' headers, the language cookie, paths that look like a
language prefix and answers that already vary."""

import itertools

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import locale
from django.test import RequestFactory
from django.utils import translation

from lamplighter.serving.middleware import LocaleMiddleware

ACCEPT = [None, "de-DE,de;q=0.9,en;q=0.5", "fr", "xx, *;q=0.1", "en-GB;q=0.8, fr;q=0.9"]
COOKIE = [None, "fr", "de", "zz"]
PATHS = ["/lights_status/", "/de/", "/fr/lights/", "/api/v1/lights/7/state"]


def _respond(status: int, vary: str | None) -> HttpResponse:
    response = HttpResponse("x", status=status)
    if vary:
        response["Vary"] = vary
    return response


def _run(middleware_class: type, request: HttpRequest, status: int, vary: str | None) -> tuple:
    middleware = middleware_class(lambda r: _respond(status, vary))
    with translation.override(None):
        middleware.process_request(request)
        active = translation.get_language()
        response = middleware.process_response(request, _respond(status, vary))
        return request.LANGUAGE_CODE, active, sorted(response.items()), response.status_code


@pytest.mark.parametrize(("accept", "cookie"), list(itertools.product(ACCEPT, COOKIE)))
def test_the_same_language_and_headers_as_djangos(accept: str | None, cookie: str | None) -> None:
    factory = RequestFactory()
    for path, status, vary in itertools.product(PATHS, (200, 404), (None, "Cookie")):
        headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
        ours, djangos = (factory.get(path, **headers) for _ in range(2))
        if cookie:
            for request in (ours, djangos):
                request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = cookie
        assert _run(LocaleMiddleware, ours, status, vary) == _run(
            locale.LocaleMiddleware, djangos, status, vary
        ), (path, status, vary)
