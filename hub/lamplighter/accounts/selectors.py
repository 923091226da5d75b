"""Reads for user preferences."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache

from lamplighter.accounts.models import UserPreference

# Every page and API call of a logged-in user asks for the language: kept in the cache (shared by
# the workers), refreshed by preference_set_language, and at the latest after this long (an edit
# in the admin).
LANGUAGE_CACHE_SECONDS = 60


def language_cache_key(user_id: int) -> str:
    """The cache key of a user's language preference."""
    return f"lamplighter:language:{user_id}"


def preference_language(*, user: User | AnonymousUser) -> str:
    """The language the user chose for the dashboard; empty when they follow their browser."""
    if not user.is_authenticated:
        return ""
    key = language_cache_key(user.pk)
    language = cache.get(key)
    if language is None:
        found = UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
        language = found or ""
        cache.set(key, language, LANGUAGE_CACHE_SECONDS)
    return str(language)
