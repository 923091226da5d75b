"""LAN push of an image to a device's /django_update_firmware (the seed's route), streamed.

The file is read in chunks as the socket drains, so the hub holds one chunk per push, never
the image. Pushes run as tasks on the hub's event loop (lamplighter.infra.hub_loop).
"""

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from channels.db import database_sync_to_async
from django.conf import settings

from lamplighter.firmware import protocol
from lamplighter.infra import hub_loop

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
PROGRESS_EVERY = 256 * 1024  # bytes between progress updates of a push


def _push_plan(job_id: int) -> dict[str, Any] | None:
    from lamplighter.ota.models import Job
    from lamplighter.ota.services import artifact_path

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


async def _chunks(path: Path, size: int, job_id: int) -> AsyncIterator[bytes]:
    from lamplighter.ota.services import job_push_progress

    sent, next_report = 0, PROGRESS_EVERY
    with path.open("rb") as handle:
        while sent < size:
            # A 64 KB read from the page cache takes microseconds: no thread hop needed.
            chunk = handle.read(min(CHUNK, size - sent))
            if not chunk:
                return
            sent += len(chunk)
            yield chunk
            if sent >= next_report and sent < size:
                next_report = sent + PROGRESS_EVERY
                await database_sync_to_async(job_push_progress)(job_id=job_id, received=sent)


async def push_job(job_id: int) -> None:
    """Stream the job's image to its device and record the answer."""
    from lamplighter.ota.services import job_push_answer

    plan = await database_sync_to_async(_push_plan)(job_id)
    if plan is None:
        return
    status, body, error = 0, None, ""
    try:
        timeout = httpx.Timeout(settings.LAMPLIGHTER_OTA_PUSH_TIMEOUT, connect=10)
        auth = httpx.BasicAuth(protocol.HUB_LAN_USER, plan["token"])
        headers = dict(plan["headers"], **{"Content-Length": str(plan["size"])})
        async with httpx.AsyncClient(timeout=timeout, auth=auth) as client:
            response = await client.post(
                plan["url"], content=_chunks(plan["path"], plan["size"], job_id), headers=headers
            )
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:256]
        logger.warning("OTA push of job %s failed: %s", job_id, error)
    await database_sync_to_async(job_push_answer)(
        job_id=job_id, status=status, body=body if isinstance(body, dict) else None, error=error
    )


def submit(*, job_id: int) -> None:
    """Start a push on the hub's loop (or run it now when there is none)."""
    hub_loop.start_task(lambda: push_job(job_id))
