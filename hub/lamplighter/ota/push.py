"""LAN push of an image to a device's /django_update_firmware (the seed's route), streamed.

The file is read in chunks as the socket drains, so the hub holds one chunk per push, never
the image. Pushes run as tasks on the hub's event loop (lamplighter.infra.hub_loop).
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from lamplighter.firmware import protocol

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
PROGRESS_EVERY = 256 * 1024  # bytes between progress updates of a push


async def _chunks(path: Path, size: int, progress: Callable[[int], Awaitable[None]]) -> AsyncIterator[bytes]:
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
                await progress(sent)


async def push_image(
    plan: dict[str, Any], progress: Callable[[int], Awaitable[None]]
) -> tuple[int, dict[str, Any] | None, str]:
    """Stream the image a push plan names to its device: (HTTP status, JSON answer, error).

    plan: url, token, headers, path and size of the image (ota.services.job_push_plan);
    progress(sent) is awaited every PROGRESS_EVERY bytes.
    """
    status, body, error = 0, None, ""
    try:
        timeout = httpx.Timeout(settings.LAMPLIGHTER_OTA_PUSH_TIMEOUT, connect=10)
        auth = httpx.BasicAuth(protocol.HUB_LAN_USER, plan["token"])
        headers = dict(plan["headers"], **{"Content-Length": str(plan["size"])})
        async with httpx.AsyncClient(timeout=timeout, auth=auth) as client:
            response = await client.post(
                plan["url"], content=_chunks(plan["path"], plan["size"], progress), headers=headers
            )
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:256]
        logger.warning("OTA push to %s failed: %s", plan["url"], error)
    return status, body if isinstance(body, dict) else None, error
