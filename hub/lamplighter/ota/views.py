"""The device's image download (pull): Basic auth, Range requests, streamed from the file."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from lamplighter.devices.auth import device_from_authorization
from lamplighter.ota import selectors
from lamplighter.ota.services import firmware_dir

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


async def _file_part(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes [start, start + length) in chunks: an async iterator, so Django streams it
    under ASGI without collecting it first, and uvicorn's flow control paces the reads."""
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            # A 64 KB read from the page cache takes microseconds: no thread hop needed.
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


async def firmware_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """GET the image of the device's active job; `Range: bytes=N-` resumes a cut download."""
    response: HttpResponseBase
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"error": "method not allowed"}, status=405)
    device = await sync_to_async(device_from_authorization)(request.headers.get("Authorization"))
    if device is None:
        denied = JsonResponse({"error": "device credentials required"}, status=401)
        denied["WWW-Authenticate"] = 'Basic realm="lamplighter-device", charset="UTF-8"'
        return denied
    found = await sync_to_async(selectors.job_for_download)(job_id=job_id, device=device)
    if found is None:
        return JsonResponse({"error": "no active update with this id for this device"}, status=404)
    file_name, size = found
    path = firmware_dir() / file_name
    actual = path.stat().st_size if path.exists() else 0
    start, end, status = 0, actual - 1, 200
    header = request.headers.get("Range")
    if header:
        match = _RANGE.match(header.strip())
        if match is None:
            return JsonResponse({"error": "only Range: bytes=N- or bytes=N-M"}, status=400)
        start = int(match.group(1))
        if match.group(2):
            end = min(int(match.group(2)), actual - 1)
        if start >= actual or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{actual}"
            return response
        status = 206
    length = end - start + 1
    response = StreamingHttpResponse(
        _file_part(path, start, length) if request.method == "GET" else _file_part(path, 0, 0),
        status=status,
        content_type="application/octet-stream",
    )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{actual}"
    return response
