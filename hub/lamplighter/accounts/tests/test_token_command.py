"""`lamplighter token create`: prints a working token, stores only its hash."""

import io

import pytest
from django.core.management import CommandError, call_command

from factories import UserFactory
from lamplighter.accounts.models import ApiToken
from lamplighter.accounts.services import api_token_authenticate

pytestmark = pytest.mark.django_db


def test_token_create_prints_a_working_token() -> None:
    user = UserFactory(username="alice")
    out = io.StringIO()
    call_command("token", "create", "alice", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("llt_")
    assert api_token_authenticate(token=token).user == user  # type: ignore[union-attr]
    assert not ApiToken.objects.filter(token_hash=token).exists()


def test_unknown_user_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="no user named"):
        call_command("token", "create", "nobody")


def test_inactive_users_tokens_stop_working() -> None:
    user = UserFactory(username="bob")
    out = io.StringIO()
    call_command("token", "create", "bob", stdout=out)
    user.is_active = False
    user.save()
    assert api_token_authenticate(token=out.getvalue().strip()) is None
