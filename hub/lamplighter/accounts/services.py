"""Writes for API tokens and user preferences."""

from functools import cache

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache as shared_cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lamplighter.accounts.models import ApiToken, UserPreference
from lamplighter.accounts.selectors import language_cache_key
from lamplighter.infra import rows
from lamplighter.infra.secret_hashing import new_secret, secret_hash

TOKEN_PREFIX = "llt_"  # noqa: S105 - a public marker, not a secret
TOKEN_USE_WRITE_INTERVAL = 60  # seconds: last_used_at is at most this stale


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a personal API token; return it with the plain token, which is never stored."""
    token = TOKEN_PREFIX + new_secret()
    api_token = ApiToken.objects.create(
        user=user, name=name, prefix=token[: len(TOKEN_PREFIX) + 4], token_hash=secret_hash(token)
    )
    return api_token, token


def api_token_authenticate(*, token: str) -> ApiToken | None:
    """Return the active token matching this plain token, or None."""
    if not _plausible(token):
        return None
    api_token = ApiToken.objects.select_related("user").filter(token_hash=secret_hash(token)).first()
    if api_token is None or not api_token.user.is_active:
        return None
    _note_use(api_token)
    return api_token


def api_token_of_active_user(*, token: str) -> ApiToken | None:
    """api_token_authenticate without loading the user: one written-out query (a token's light
    switch, the API's hottest call, needs only the user's id)."""
    if not _plausible(token):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_active_token_sql(), [secret_hash(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    api_token = rows.instance(ApiToken, row)
    _note_use(api_token)
    return api_token


def _plausible(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(token) <= 200


@cache
def _active_token_sql() -> str:
    tokens, users = ApiToken._meta.db_table, User._meta.db_table
    return (
        f"SELECT {rows.select_list(ApiToken, 't')} FROM {tokens} t JOIN {users} u ON u.id = t.user_id "  # noqa: S608 - names from model metadata; values are bound parameters
        "WHERE t.token_hash = %s AND u.is_active"
    )


def _note_use(api_token: ApiToken) -> None:
    now = timezone.now()
    last = api_token.last_used_at
    if last is None or (now - last).total_seconds() >= TOKEN_USE_WRITE_INTERVAL:
        # Throttled: a script calling the API in a loop is not one write per request.
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now


def preference_set_language(*, user: User, language: str) -> UserPreference:
    """Show the dashboard to the user in this language (a code of settings.LANGUAGES; empty: the browser's)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("unknown language %(code)s") % {"code": language})
    preference, _created = UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    # Forgotten now and once committed (a read in between may have kept the uncommitted choice).
    key = language_cache_key(user.pk)
    shared_cache.delete(key)
    transaction.on_commit(lambda: shared_cache.delete(key))
    return preference
