"""Reads for user preferences."""

from django.contrib.auth.models import AnonymousUser, User

from lamplighter.accounts.models import UserPreference


def preference_language(*, user: User | AnonymousUser) -> str:
    """The language the user chose for the dashboard; empty when they follow their browser."""
    if not user.is_authenticated:
        return ""
    language = UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    return language or ""
