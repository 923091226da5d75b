"""A light controller of a home, with its own secret (kept only as a hash)."""

from django.db import models

from lamplighter.homes.models import Home


class Device(models.Model):
    """A light controller (an ESP32, or the firmware running as a simulator)."""

    class Connection(models.TextChoices):
        NONE = "", "Not connected"
        WEBSOCKET = "websocket", "WebSocket"
        HTTP = "http", "HTTP polling"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="devices")
    name = models.CharField(max_length=64)
    device_id = models.SlugField(max_length=64, unique=True, help_text="Public id; the Basic-auth user name.")
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    online = models.BooleanField(default=False)
    last_seen = models.DateTimeField(null=True, blank=True)
    connection = models.CharField(
        max_length=10, choices=Connection.choices, default=Connection.NONE, blank=True
    )
    channel_name = models.CharField(max_length=200, blank=True, help_text="Channel of the live WebSocket.")
    protocol_version = models.PositiveIntegerField(null=True, blank=True)
    lights_capability = models.PositiveSmallIntegerField(
        default=1, help_text="Lights capability of its hello: 1 on/off only, 2 brightness and colour."
    )
    firmware_version = models.CharField(max_length=64, blank=True)
    board = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=10, blank=True, help_text="local or remote, as the device reports.")
    lan_url = models.URLField(
        max_length=256, blank=True, help_text="The device's web server, as it reported."
    )
    lan_token = models.CharField(max_length=256, blank=True, help_text="Credential the hub uses on the LAN.")
    uptime = models.PositiveBigIntegerField(null=True, blank=True)
    free_memory = models.PositiveBigIntegerField(null=True, blank=True)
    rssi = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["home", "name"], name="device_name_unique_in_home")]

    def __str__(self) -> str:
        return f"{self.name} ({self.device_id})"


class PairingCode(models.Model):
    """A one-time code that lets a new device join a home: short-lived, single use, kept only as a hash."""

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="pairing_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"pairing code for {self.home} (expires {self.expires_at:%Y-%m-%d %H:%M})"


class PairingFailure(models.Model):
    """A wrong pairing code, by client address: too many within a window lock that address out."""

    remote_addr = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"wrong pairing code from {self.remote_addr}"


class DeviceLogLine(models.Model):
    """One line of a device's log, as it sent it in a log.batch (already masked by the device)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveBigIntegerField()
    uptime = models.PositiveBigIntegerField()
    level = models.CharField(max_length=5)
    text = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    happened_at = models.DateTimeField(
        null=True, blank=True, help_text="When the line was logged: its batch's arrival less its age in it."
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["device", "id"], name="device_log_line_recent")]

    def __str__(self) -> str:
        return f"{self.level} {self.text}"
