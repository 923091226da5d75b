"""User preferences: the language service, selector and middleware."""

import pytest
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from factories import UserFactory
from lamplighter.accounts.middleware import user_language_middleware
from lamplighter.accounts.selectors import preference_language
from lamplighter.accounts.services import preference_set_language

pytestmark = pytest.mark.django_db


def test_language_is_set_changed_and_cleared() -> None:
    user = UserFactory()
    assert preference_language(user=user) == ""
    preference_set_language(user=user, language="fr")
    assert preference_language(user=user) == "fr"
    preference_set_language(user=user, language="de")
    assert preference_language(user=user) == "de"
    preference_set_language(user=user, language="")
    assert preference_language(user=user) == ""


@pytest.mark.parametrize("language", ["xx", "en-us", "DE", "de;drop"])
def test_only_shipped_languages_are_accepted(language: str) -> None:
    user = UserFactory()
    with pytest.raises(ValidationError):
        preference_set_language(user=user, language=language)
    assert preference_language(user=user) == ""


def test_middleware_activates_the_users_language_only_with_a_session() -> None:
    user = UserFactory()
    preference_set_language(user=user, language="fr")
    seen: list[str] = []

    def view(request: object) -> HttpResponse:
        seen.append(translation.get_language())
        return HttpResponse()

    middleware = user_language_middleware(view)
    with translation.override("en"):
        request = RequestFactory().get("/")
        request.user = user
        middleware(request)  # no session cookie (a device, an API token): left alone
        request.COOKIES["sessionid"] = "x"
        middleware(request)
    assert seen == ["en", "fr"]
