"""A token's last_used_at is kept within a minute, without a write per request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from factories import UserFactory
from lamplighter.accounts.models import ApiToken
from lamplighter.accounts.services import TOKEN_USE_WRITE_INTERVAL, api_token_authenticate, api_token_create

pytestmark = pytest.mark.django_db


def test_last_used_at_is_written_at_most_once_a_minute() -> None:
    api_token, token = api_token_create(user=UserFactory())
    assert api_token_authenticate(token=token) is not None
    first = ApiToken.objects.get(pk=api_token.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        assert api_token_authenticate(token=token) is not None
    assert len(queries) == 1  # the lookup only
    assert ApiToken.objects.get(pk=api_token.pk).last_used_at == first
    old = timezone.now() - timedelta(seconds=TOKEN_USE_WRITE_INTERVAL + 1)
    ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=old)
    assert api_token_authenticate(token=token) is not None
    assert timezone.now() - ApiToken.objects.get(pk=api_token.pk).last_used_at < timedelta(seconds=5)
