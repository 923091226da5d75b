"""Admin for homes, memberships and rooms."""

from django.contrib import admin

from lamplighter.homes.models import Home, Membership, Room


class MembershipInline(admin.TabularInline):
    """Members of a home."""

    model = Membership
    extra = 0


@admin.register(Home)
class HomeAdmin(admin.ModelAdmin):
    """Homes."""

    list_display = ["name", "created_at"]
    inlines = [MembershipInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    """Rooms."""

    list_display = ["name", "home"]
    list_filter = ["home"]
