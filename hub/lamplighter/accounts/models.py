"""Personal API tokens, kept only as a hash."""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A user's bearer token for API clients; the token itself is shown once, only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise the token.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}… {self.name}".strip()


class UserPreference(models.Model):
    """A user's own settings for the dashboard; for now the language its pages are shown in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    # A code of settings.LANGUAGES, or empty: follow the browser (Accept-Language).
    language = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return f"{self.user} language={self.language or 'browser'}"
