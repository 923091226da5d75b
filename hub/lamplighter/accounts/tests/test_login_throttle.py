"""Failed logins are throttled per user name and per address; a success clears the user's count."""

import pytest
from django.test import Client

from factories import DEFAULT_TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_user_name_is_locked_after_repeated_failures(settings: object) -> None:
    settings.LAMPLIGHTER_LOGIN_MAX_FAILURES = 3  # type: ignore[attr-defined]
    UserFactory(username="carol")
    client = Client()
    assert [attempt(client, "carol", "wrong") for _ in range(3)] == [200, 200, 200]
    # Even the right password is refused while locked, without being checked.
    assert attempt(client, "carol", DEFAULT_TEST_PASSWORD) == 429
    assert "_auth_user_id" not in client.session


def test_other_users_are_not_locked_by_someone_elses_failures(settings: object) -> None:
    settings.LAMPLIGHTER_LOGIN_MAX_FAILURES = 2  # type: ignore[attr-defined]
    UserFactory(username="dave")
    UserFactory(username="erin")
    client = Client()
    attempt(client, "dave", "x")
    attempt(client, "dave", "y")
    assert attempt(client, "erin", DEFAULT_TEST_PASSWORD) == 302


def test_address_spraying_many_names_is_locked(settings: object) -> None:
    settings.LAMPLIGHTER_LOGIN_MAX_FAILURES_PER_ADDRESS = 4  # type: ignore[attr-defined]
    UserFactory(username="frank")
    client = Client()
    for name in ["a", "b", "c", "d"]:
        attempt(client, name, "guess")
    assert attempt(client, "frank", DEFAULT_TEST_PASSWORD) == 429
    assert attempt(Client(REMOTE_ADDR="192.0.2.7"), "frank", DEFAULT_TEST_PASSWORD) == 302


def test_success_clears_the_user_names_count(settings: object) -> None:
    settings.LAMPLIGHTER_LOGIN_MAX_FAILURES = 3  # type: ignore[attr-defined]
    UserFactory(username="gina")
    client = Client()
    attempt(client, "gina", "x")
    attempt(client, "gina", "y")
    assert attempt(client, "gina", DEFAULT_TEST_PASSWORD) == 302
    other = Client()
    assert [attempt(other, "gina", "z") for _ in range(2)] == [200, 200]
    assert attempt(other, "gina", DEFAULT_TEST_PASSWORD) == 302
