"""Reads for OTA, scoped to the user's homes."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Q, QuerySet

from lamplighter.devices.models import Device
from lamplighter.homes.models import Membership
from lamplighter.homes.selectors import home_list
from lamplighter.ota.models import ACTIVE_STATES, Artifact, Job, Rollout


def user_may_release(*, user: User | AnonymousUser) -> bool:
    """Owners of a home (and superusers) may upload firmware and start rollouts."""
    if not user.is_authenticated:
        return False
    return bool(
        getattr(user, "is_superuser", False)
        or Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists()
    )


def artifact_list(*, user: User | AnonymousUser) -> QuerySet[Artifact]:
    """Artifacts, for users who may release firmware."""
    if not user_may_release(user=user):
        return Artifact.objects.none()
    return Artifact.objects.all()


def rollout_list(*, user: User | AnonymousUser, home_id: int | None = None) -> QuerySet[Rollout]:
    """Rollouts touching a device of the user's homes."""
    homes = home_list(user=user)
    if home_id is not None:
        homes = homes.filter(pk=home_id)
    return (
        Rollout.objects.filter(jobs__device__home__in=homes)
        .distinct()
        .select_related("artifact")
        .annotate(
            job_count=Count("jobs", distinct=True),
            confirmed_count=Count("jobs", filter=Q(jobs__state=Job.State.CONFIRMED), distinct=True),
            failed_count=Count(
                "jobs", filter=Q(jobs__state__in=[Job.State.FAILED, Job.State.ROLLED_BACK]), distinct=True
            ),
        )
    )


def rollout_get(*, user: User | AnonymousUser, rollout_id: int) -> Rollout:
    """One rollout the user may see; Rollout.DoesNotExist otherwise."""
    return rollout_list(user=user).get(pk=rollout_id)


def rollout_jobs(*, rollout: Rollout) -> QuerySet[Job]:
    """A rollout's jobs with their devices."""
    return rollout.jobs.select_related("device", "rollout__artifact").order_by("batch", "pk")


def job_for_download(*, job_id: int, device: Device) -> tuple[str, int] | None:
    """(file name, size) of the image a device may download for its active job, else None."""
    job = (
        Job.objects.filter(pk=job_id, device=device, state__in=ACTIVE_STATES)
        .select_related("rollout__artifact")
        .first()
    )
    if job is None:
        return None
    return job.rollout.artifact.file_name, job.rollout.artifact.size


def job_payload(job: Job) -> dict[str, Any]:
    """A job as the API and the dashboard events show it."""
    artifact = job.rollout.artifact
    return {
        "id": job.pk,
        "rollout_id": job.rollout_id,
        "device": job.device.device_id,
        "device_pk": job.device_id,
        "home_id": job.device.home_id,
        "batch": job.batch,
        "state": job.state,
        "path": job.path or None,
        "received": job.received,
        "size": artifact.size,
        "version": artifact.version,
        "from_version": job.from_version or None,
        "reason": job.reason or None,
        "detail": job.detail or None,
        "boot_slot": job.boot_slot,
        "updated_at": job.updated_at.isoformat() if job.updated_at else None,
    }


def artifact_payload(artifact: Artifact) -> dict[str, Any]:
    """An artifact as the API shows it."""
    return {
        "id": artifact.pk,
        "version": artifact.version,
        "board": artifact.board,
        "kind": artifact.kind,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "signed": bool(artifact.signature),
        # "release": the signature binds version and board; "content": only the bytes (the hub
        # asserts version and board); null when unsigned.
        "signature_binds": ("content" if artifact.content_only else "release")
        if artifact.signature
        else None,
        "created_at": artifact.created_at.isoformat(),
    }


def rollout_payload(rollout: Rollout, jobs: bool = True) -> dict[str, Any]:
    """A rollout, with its jobs when asked."""
    payload: dict[str, Any] = {
        "id": rollout.pk,
        "artifact": artifact_payload(rollout.artifact),
        "home_id": rollout.home_id,
        "status": rollout.status,
        "status_reason": rollout.status_reason or None,
        "batch_size": rollout.batch_size,
        "current_batch": rollout.current_batch,
        "failure_threshold": rollout.failure_threshold,
        "delivery": rollout.delivery,
        "force": rollout.force,
        "created_at": rollout.created_at.isoformat(),
        "finished_at": rollout.finished_at.isoformat() if rollout.finished_at else None,
    }
    if jobs:
        payload["jobs"] = [job_payload(job) for job in rollout_jobs(rollout=rollout)]
    return payload
