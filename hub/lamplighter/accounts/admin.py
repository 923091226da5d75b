"""Admin for API tokens (no token can be read back, only revoked) and user preferences."""

from django.contrib import admin

from lamplighter.accounts.models import ApiToken, UserPreference


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Personal API tokens."""

    list_display = ["user", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    """Each user's dashboard language."""

    list_display = ["user", "language"]
