"""Firmware artifacts (files under the data dir), rollouts, and one update job per device."""

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lamplighter.devices.models import Device
from lamplighter.homes.models import Home


class Artifact(models.Model):
    """A firmware release: the file lives outside the database, under <data dir>/firmware/."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Full image")
        BUNDLE = "bundle", _("Application bundle")

    version = models.CharField(max_length=64)
    board = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.IMAGE)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    manifest = models.TextField(help_text="The exact manifest text the signature covers.")
    signature = models.CharField(max_length=128, blank=True, help_text="Ed25519, hex; empty when unsigned.")
    file_name = models.CharField(max_length=200, help_text="Relative to the firmware folder.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["board", "kind", "version"], name="artifact_unique_release")
        ]

    def __str__(self) -> str:
        return f"{self.board} {self.version} ({self.kind})"

    @property
    def content_only(self) -> bool:
        """True when the signed manifest binds no version nor board (the hub asserts them)."""
        try:
            manifest = json.loads(self.manifest)
        except ValueError:
            return False
        return isinstance(manifest, dict) and "version" not in manifest and "board" not in manifest


class Rollout(models.Model):
    """An artifact sent to a set of devices, batch after batch."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        CANCELED = "canceled", _("Canceled")
        FINISHED = "finished", _("Finished")

    class Delivery(models.TextChoices):
        AUTO = "auto", _("Pull over the WebSocket, else push on the LAN")
        PULL = "pull", _("Pull only")
        PUSH = "push", _("LAN push only")

    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="rollouts")
    home = models.ForeignKey(Home, null=True, blank=True, on_delete=models.CASCADE, related_name="rollouts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    batch_size = models.PositiveIntegerField(default=10)
    failure_threshold = models.PositiveSmallIntegerField(
        default=20, help_text="Pause when more than this percentage of the devices failed."
    )
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.AUTO)
    force = models.BooleanField(default=False, help_text="Allow a downgrade.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    current_batch = models.PositiveIntegerField(default=0)
    status_reason = models.CharField(max_length=256, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"rollout {self.pk} of {self.artifact}"


class Job(models.Model):
    """One device's update within a rollout."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        OFFERED = "offered", _("Offered")
        DOWNLOADING = "downloading", _("Downloading")
        VERIFYING = "verifying", _("Verifying")
        REBOOTING = "rebooting", _("Rebooting")
        CONFIRMED = "confirmed", _("Confirmed")
        FAILED = "failed", _("Failed")
        ROLLED_BACK = "rolled_back", _("Rolled back")
        CANCELED = "canceled", _("Canceled")

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="jobs")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="ota_jobs")
    batch = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    path = models.CharField(max_length=10, blank=True, help_text="pull or push, once started.")
    received = models.PositiveBigIntegerField(default=0)
    reason = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=256, blank=True)
    from_version = models.CharField(max_length=64, blank=True)
    boot_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rollout_id", "batch", "pk"]
        constraints = [models.UniqueConstraint(fields=["rollout", "device"], name="job_one_per_device")]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.device_id} {self.state}"


ACTIVE_STATES = (Job.State.OFFERED, Job.State.DOWNLOADING, Job.State.VERIFYING, Job.State.REBOOTING)
DONE_STATES = (Job.State.CONFIRMED, Job.State.FAILED, Job.State.ROLLED_BACK, Job.State.CANCELED)
FAILED_STATES = (Job.State.FAILED, Job.State.ROLLED_BACK)
