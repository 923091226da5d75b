"""The bridge's leader lease: one row that says which hub worker runs the MQTT bridge, and until when."""

from django.db import models


class BridgeLease(models.Model):
    """A lease held by one hub worker; the others stand by until it expires unrenewed."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=100, help_text="The worker holding it (host, pid, random).")
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder} until {self.expires_at.isoformat()}"
