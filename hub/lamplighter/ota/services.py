"""Writes for OTA: store an artifact, create and drive rollouts, take in what devices report."""

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lamplighter.devices.models import Device
from lamplighter.firmware import ota, protocol
from lamplighter.homes.models import Home
from lamplighter.infra import hub_loop, lan_push, realtime
from lamplighter.ota import push, selectors, signing
from lamplighter.ota.models import ACTIVE_STATES, DONE_STATES, FAILED_STATES, Artifact, Job, Rollout

CHUNK = 64 * 1024


# ---- artifacts ---------------------------------------------------------------------------


def firmware_dir() -> Path:
    """Where artifact files live (made on first use)."""
    folder = Path(settings.LAMPLIGHTER_FIRMWARE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store_stream(chunks: Iterable[bytes]) -> tuple[Path, str, int]:
    """Write chunks to a temporary file in the firmware folder, hashing as they pass."""
    limit = settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=firmware_dir())
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError(f"the artifact is larger than {limit} bytes")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError("the artifact is empty")
    return path, digest.hexdigest(), size


def file_chunks(handle: Any, size: int = CHUNK) -> Iterable[bytes]:
    """A binary file object read in chunks."""
    while chunk := handle.read(size):
        yield chunk


def artifact_upload(
    *,
    chunks: Iterable[bytes],
    version: str,
    board: str,
    kind: str = "",
    signature_file: str | None = None,
    uploaded_by: User | None = None,
) -> Artifact:
    """Store a firmware file (SHA-256 computed while it streams in) with its signed manifest.

    Unsigned files are refused unless LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE is set. A signed
    manifest must match the file (size, hash, kind); a full one also the version and board given
    here. A content-only one binds neither: the version and board given here are recorded and
    asserted by the hub in its offers.
    """
    version, board = (version or "").strip(), (board or "").strip()
    if not version or len(version) > 64 or not board or len(board) > 64:
        raise ValidationError("version and board must be 1 to 64 characters")
    if kind and kind not in ota.KINDS:
        raise ValidationError("kind must be image or bundle")
    signed: tuple[str, str, dict[str, Any]] | None = None
    if signature_file:
        try:
            signed = signing.read_signature_file(signature_file)
        except signing.SignatureFileError as error:
            raise ValidationError(str(error)) from error
    elif not settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE:
        raise ValidationError(
            "unsigned firmware is refused: sign it (lamplighter firmware sign) or set "
            "LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE for development"
        )
    path, sha256, size = _store_stream(chunks)
    try:
        if signed is not None:
            manifest_text, signature, manifest = signed
            kind = kind or manifest["kind"]
            expected = {"sha256": sha256, "size": size, "kind": kind}
            if not ota.is_content_manifest(manifest):
                expected.update(version=version, board=board)
            wrong = [key for key, value in expected.items() if manifest[key] != value]
            if wrong:
                raise ValidationError("the signed manifest does not match the upload: " + ", ".join(wrong))
            keys = settings.LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS
            if keys and not signing.signature_valid(keys, manifest_text, signature):
                raise ValidationError("the signature does not verify with the hub's release keys")
        else:
            kind = kind or ota.KIND_IMAGE
            manifest_text, signature = ota.build_manifest(version, board, size, sha256, kind), ""
        if Artifact.objects.filter(board=board, kind=kind, version=version).exists():
            raise ValidationError(f"{board} {version} ({kind}) was already uploaded")
        artifact = Artifact.objects.create(
            version=version,
            board=board,
            kind=kind,
            size=size,
            sha256=sha256,
            manifest=manifest_text,
            signature=signature,
            file_name="",
            uploaded_by=uploaded_by,
        )
        artifact.file_name = f"{artifact.pk}-{sha256[:16]}.bin"
        path.rename(firmware_dir() / artifact.file_name)
        artifact.save(update_fields=["file_name"])
        return artifact
    finally:
        path.unlink(missing_ok=True)


def artifact_path(artifact: Artifact) -> Path:
    """The artifact's file."""
    return firmware_dir() / artifact.file_name


# ---- rollouts ----------------------------------------------------------------------------


def rollout_create(
    *,
    artifact: Artifact,
    devices: list[Device],
    home: Home | None = None,
    batch_size: int = 10,
    failure_threshold: int = 20,
    delivery: str = Rollout.Delivery.AUTO,
    force: bool = False,
    created_by: User | None = None,
    start: bool = True,
) -> Rollout:
    """Plan a rollout: one queued job per device, in batches; the first batch starts at once
    (start=False leaves it to the hub's rollout loop: the CLI runs outside the hub process)."""
    if not devices:
        raise ValidationError("a rollout needs at least one device")
    if batch_size < 1:
        raise ValidationError("the batch size must be at least 1")
    if not 0 <= failure_threshold <= 100:
        raise ValidationError("the failure threshold is a percentage, 0 to 100")
    if delivery not in Rollout.Delivery.values:
        raise ValidationError("delivery must be auto, pull or push")
    with transaction.atomic():
        rollout = Rollout.objects.create(
            artifact=artifact,
            home=home,
            batch_size=batch_size,
            failure_threshold=failure_threshold,
            delivery=delivery,
            force=force,
            created_by=created_by,
        )
        Job.objects.bulk_create(
            Job(
                rollout=rollout,
                device=device,
                batch=index // batch_size,
                from_version=device.firmware_version,
            )
            for index, device in enumerate(dict.fromkeys(devices))
        )
        if start:
            transaction.on_commit(partial(rollout_advance, rollout_id=rollout.pk))
    return rollout


def rollout_cancel(*, rollout: Rollout) -> Rollout:
    """Stop a rollout: queued jobs are canceled; jobs already on a device run to their end."""
    with transaction.atomic():
        Rollout.objects.filter(pk=rollout.pk).exclude(status=Rollout.Status.FINISHED).update(
            status=Rollout.Status.CANCELED, status_reason="canceled", finished_at=timezone.now()
        )
        for job in Job.objects.filter(rollout=rollout, state=Job.State.QUEUED).select_related("device"):
            _set_state(job, Job.State.CANCELED, reason="canceled")
    rollout.refresh_from_db()
    return rollout


def rollout_resume(*, rollout: Rollout) -> Rollout:
    """Resume a paused rollout (after looking at why its devices failed)."""
    Rollout.objects.filter(pk=rollout.pk, status=Rollout.Status.PAUSED).update(
        status=Rollout.Status.RUNNING, status_reason=""
    )
    rollout_advance(rollout_id=rollout.pk)
    rollout.refresh_from_db()
    return rollout


def rollout_advance(*, rollout_id: int) -> None:
    """Drive a rollout: pause past the failure threshold, start reachable jobs of the current batch,
    move to the next batch when this one is done, finish when all are."""
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().filter(pk=rollout_id).first()
        if rollout is None or rollout.status != Rollout.Status.RUNNING:
            return
        jobs = list(Job.objects.filter(rollout=rollout).select_related("device"))
        failed = sum(1 for job in jobs if job.state in FAILED_STATES)
        if failed * 100 > rollout.failure_threshold * len(jobs):
            rollout.status = Rollout.Status.PAUSED
            rollout.status_reason = (
                f"{failed} of {len(jobs)} devices failed (threshold {rollout.failure_threshold}%)"
            )
            rollout.save(update_fields=["status", "status_reason"])
            return
        while True:
            batch = [job for job in jobs if job.batch == rollout.current_batch]
            if batch and not all(job.state in DONE_STATES for job in batch):
                break
            if not any(job.batch > rollout.current_batch for job in jobs):
                rollout.status = Rollout.Status.FINISHED
                rollout.finished_at = timezone.now()
                rollout.save(update_fields=["status", "finished_at"])
                return
            rollout.current_batch += 1
            rollout.save(update_fields=["current_batch"])
        for job in batch:
            if job.state == Job.State.QUEUED:
                _job_start(job, rollout)


def _job_start(job: Job, rollout: Rollout) -> bool:
    """Start a queued job on the best path the device has now; False when it cannot be reached yet."""
    busy = Job.objects.filter(device_id=job.device_id, state__in=ACTIVE_STATES).exclude(pk=job.pk).exists()
    if busy:
        return False
    device = Device.objects.filter(pk=job.device_id).values("channel_name", "lan_url", "lan_token").first()
    if device is None:
        return False
    can_pull = bool(device["channel_name"]) and rollout.delivery != Rollout.Delivery.PUSH
    can_push = (
        bool(device["lan_token"])
        and lan_push.is_pushable_url(device["lan_url"])
        and rollout.delivery != Rollout.Delivery.PULL
    )
    if can_pull:
        _set_state(job, Job.State.OFFERED, path="pull")
        offer = job_offer(job)
        device_id = job.device.device_id
        transaction.on_commit(lambda: realtime.send_to_device(device_id, offer))
        return True
    if can_push:
        _set_state(job, Job.State.OFFERED, path="push")
        transaction.on_commit(partial(hub_loop.start_task, partial(job_push, job_id=job.pk)))
        return True
    return False


def job_offer(job: Job) -> dict[str, Any]:
    """The ota.offer for a job (pull: the device downloads from the hub's firmware route)."""
    artifact = job.rollout.artifact
    # A content-only manifest binds no version nor board: the hub asserts the uploaded ones.
    asserted = artifact.content_only
    return protocol.build_ota_offer(
        job.pk,
        protocol.HUB_FIRMWARE_PATH + str(job.pk),
        artifact.manifest,
        artifact.signature or None,
        job.rollout.force,
        artifact.version if asserted else None,
        artifact.board if asserted else None,
    )


def _set_state(job: Job, state: str, **fields: Any) -> None:
    """Move a job on, save it and tell the dashboards of its home."""
    job.state = state
    now = timezone.now()
    if state == Job.State.OFFERED and job.started_at is None:
        job.started_at = now
    if state in DONE_STATES:
        job.finished_at = now
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()
    event = realtime.ota_job_event(selectors.job_payload(job))
    home_id = job.device.home_id
    transaction.on_commit(lambda: realtime.publish_to_home(home_id, event))


# ---- what devices (and pushes) report ----------------------------------------------------


def _device_job(device: Device, job_id: int) -> Job | None:
    return (
        Job.objects.select_for_update(of=("self",))
        .select_related("device", "rollout__artifact")
        .filter(pk=job_id, device=device)
        .first()
    )


def job_progress(*, device: Device, data: dict[str, Any]) -> None:
    """An ota.progress: the job moves to downloading, verifying or rebooting."""
    with transaction.atomic():
        job = _device_job(device, data["job"])
        if job is None or job.state not in ACTIVE_STATES:
            return
        _set_state(job, data["state"], received=min(data["received"], job.rollout.artifact.size))


def job_result(*, device: Device, data: dict[str, Any]) -> None:
    """An ota.result: confirmed, failed with a reason, or rolled back; the rollout moves on."""
    with transaction.atomic():
        job = _device_job(device, data["job"])
        if job is None or job.state in (Job.State.CONFIRMED, Job.State.ROLLED_BACK, Job.State.CANCELED):
            return
        status = data["status"]
        fields: dict[str, Any] = {"reason": data.get("reason", ""), "detail": data.get("detail", "")[:256]}
        if data.get("boot_slot") is not None:
            fields["boot_slot"] = data["boot_slot"]
        if status == protocol.OTA_CONFIRMED:
            fields["received"] = job.rollout.artifact.size
            state = Job.State.CONFIRMED
        elif status == protocol.OTA_ROLLED_BACK:
            state = Job.State.ROLLED_BACK
        else:
            state = Job.State.FAILED
        _set_state(job, state, **fields)
        rollout_id = job.rollout_id
        transaction.on_commit(partial(rollout_advance, rollout_id=rollout_id))


def job_push_plan(*, job_id: int) -> dict[str, Any] | None:
    """What a LAN push of this job sends, and where (None when the job is gone)."""
    job = Job.objects.select_related("device", "rollout__artifact").filter(pk=job_id).first()
    if job is None:
        return None
    artifact = job.rollout.artifact
    headers = {
        protocol.OTA_HEADER_JOB: str(job.pk),
        protocol.OTA_HEADER_MANIFEST: base64.b64encode(artifact.manifest.encode()).decode("ascii"),
        "Content-Type": "application/octet-stream",
    }
    if artifact.signature:
        headers[protocol.OTA_HEADER_SIGNATURE] = artifact.signature
    if job.rollout.force:
        headers[protocol.OTA_HEADER_FORCE] = "1"
    if artifact.content_only:  # the signature binds no version nor board: the hub asserts them
        headers[protocol.OTA_HEADER_VERSION] = artifact.version
        headers[protocol.OTA_HEADER_BOARD] = artifact.board
    return {
        "url": job.device.lan_url.rstrip("/") + protocol.DEVICE_UPDATE_PATH,
        "token": job.device.lan_token,
        "headers": headers,
        "path": artifact_path(artifact),
        "size": artifact.size,
    }


async def job_push(*, job_id: int) -> None:
    """Push the job's image to its device on the LAN (a task on the hub's loop) and record the answer."""
    plan = await database_sync_to_async(job_push_plan)(job_id=job_id)
    if plan is None:
        return

    async def progress(sent: int) -> None:
        await database_sync_to_async(job_push_progress)(job_id=job_id, received=sent)

    status, body, error = await push.push_image(plan, progress)
    await database_sync_to_async(job_push_answer)(job_id=job_id, status=status, body=body, error=error)


def job_push_progress(*, job_id: int, received: int) -> None:
    """A LAN push sent this many bytes."""
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("device").filter(pk=job_id).first()
        if job is not None and job.state in (Job.State.OFFERED, Job.State.DOWNLOADING):
            _set_state(job, Job.State.DOWNLOADING, received=received)


def job_push_answer(*, job_id: int, status: int, body: dict[str, Any] | None, error: str = "") -> None:
    """A LAN push ended: the device verified the image and reboots, or refused it (reason in body)."""
    with transaction.atomic():
        job = Job.objects.select_for_update(of=("self",)).select_related("device").filter(pk=job_id).first()
        if job is None or job.state not in ACTIVE_STATES:
            return
        body = body or {}
        if status == 200:
            _set_state(job, Job.State.REBOOTING, received=job.rollout.artifact.size)
            return
        reason = str(body.get("code") or ("push_failed" if not status else f"http_{status}"))[:64]
        _set_state(job, Job.State.FAILED, reason=reason, detail=str(body.get("error") or error)[:256])
        rollout_id = job.rollout_id
        transaction.on_commit(partial(rollout_advance, rollout_id=rollout_id))


# Every (re)connecting device says hello, and nearly always it has no job in a running rollout:
# one written-out query answers that (building the two ORM queries below cost ~27 % of a hello
# in a connect storm, with a write transaction around them).
_HELLO_JOBS_SQL = (
    "SELECT 1 FROM ota_job j JOIN ota_rollout r ON r.id = j.rollout_id "
    "WHERE j.device_id = %s AND r.status = %s AND j.state IN (%s, %s, %s, %s) LIMIT 1"
)


def device_connected(*, device: Device, data: dict[str, Any], connection: str) -> list[dict[str, Any]]:
    """A device said hello: a job it lost (reboot, power cut) is offered again; queued jobs may start."""
    from django.db import connection as database

    with database.cursor() as cursor:
        cursor.execute(
            _HELLO_JOBS_SQL,
            [
                device.pk,
                Rollout.Status.RUNNING.value,
                Job.State.QUEUED.value,
                Job.State.OFFERED.value,
                Job.State.DOWNLOADING.value,
                Job.State.VERIFYING.value,
            ],
        )
        if cursor.fetchone() is None:
            return []
    replies: list[dict[str, Any]] = []
    with transaction.atomic():
        jobs = (
            Job.objects.select_for_update(of=("self",))
            .select_related("device", "rollout__artifact")
            .filter(device=device, rollout__status=Rollout.Status.RUNNING)
            .filter(Q(state__in=(Job.State.OFFERED, Job.State.DOWNLOADING, Job.State.VERIFYING)))
        )
        for job in jobs:
            if job.path == "pull" and connection == Device.Connection.HTTP:
                replies.append(job_offer(job))
            elif job.path == "pull":
                # The device lost the download (it rebooted or lost power): offer again.
                _set_state(job, Job.State.OFFERED, received=0)
                replies.append(job_offer(job))
    rollout_ids = set(
        Job.objects.filter(
            device=device, state=Job.State.QUEUED, rollout__status=Rollout.Status.RUNNING
        ).values_list("rollout_id", flat=True)
    )
    for rollout_id in rollout_ids:
        transaction.on_commit(partial(rollout_advance, rollout_id=rollout_id))
    return replies


def jobs_sweep(*, now: Any = None) -> None:
    """Fail jobs silent past the timeout, and advance every running rollout (reachable devices start)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.LAMPLIGHTER_OTA_JOB_TIMEOUT)
    for job_id in Job.objects.filter(state__in=ACTIVE_STATES, updated_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            job = Job.objects.select_for_update(of=("self",)).select_related("device").get(pk=job_id)
            if job.state in ACTIVE_STATES and job.updated_at < cutoff:
                _set_state(job, Job.State.FAILED, reason="timeout", detail="no word from the device in time")
    for rollout_id in Rollout.objects.filter(status=Rollout.Status.RUNNING).values_list("pk", flat=True):
        rollout_advance(rollout_id=rollout_id)
