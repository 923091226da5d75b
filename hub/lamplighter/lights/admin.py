"""Admin for lights."""

from django.contrib import admin

from lamplighter.lights.models import Light


@admin.register(Light)
class LightAdmin(admin.ModelAdmin):
    """Lights with their desired and reported states."""

    list_display = [
        "name",
        "room",
        "device",
        "kind",
        "desired_on",
        "desired_version",
        "reported_on",
        "reported_version",
    ]
    list_filter = ["room__home", "device"]
    readonly_fields = ["desired_version", "desired_at", "reported_on", "reported_version", "reported_at"]
