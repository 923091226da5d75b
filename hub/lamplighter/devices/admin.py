"""Admin for devices (credentials are never shown; rotate them from the dashboard or API)."""

from django.contrib import admin

from lamplighter.devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    """Devices."""

    list_display = [
        "name",
        "device_id",
        "home",
        "online",
        "connection",
        "mode",
        "firmware_version",
        "last_seen",
    ]
    list_filter = ["home", "online", "connection"]
    readonly_fields = [
        "device_id",
        "secret_hash",
        "online",
        "last_seen",
        "connection",
        "channel_name",
        "protocol_version",
        "firmware_version",
        "board",
        "mode",
        "lan_url",
        "lan_token",
        "uptime",
        "free_memory",
        "rssi",
    ]
