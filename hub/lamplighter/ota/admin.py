"""Admin for firmware artifacts, rollouts and jobs (read-mostly: use the CLI, API or dashboard to act)."""

from django.contrib import admin

from lamplighter.ota.models import Artifact, Job, Rollout


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    """Artifacts."""

    list_display = ["board", "version", "kind", "size", "created_at"]
    readonly_fields = ["sha256", "size", "manifest", "signature", "file_name", "uploaded_by"]


class JobInline(admin.TabularInline):
    """A rollout's jobs."""

    model = Job
    extra = 0
    readonly_fields = ["device", "batch", "state", "path", "received", "reason", "detail", "finished_at"]


@admin.register(Rollout)
class RolloutAdmin(admin.ModelAdmin):
    """Rollouts."""

    list_display = ["pk", "artifact", "status", "current_batch", "created_at"]
    list_filter = ["status"]
    inlines = [JobInline]
