"""Admin for the MQTT bridge: which worker leads it."""

from django.contrib import admin

from lamplighter.mqtt_bridge.models import BridgeLease


@admin.register(BridgeLease)
class BridgeLeaseAdmin(admin.ModelAdmin):
    """The leader lease (read-only; deleting it makes the workers elect a leader again)."""

    list_display = ["name", "holder", "expires_at"]
    readonly_fields = ["name", "holder", "expires_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        """Leases are taken by workers, never by hand."""
        return False
