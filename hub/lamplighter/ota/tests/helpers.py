"""OTA test helpers: the test signing key, signed uploads, a cutting TCP proxy, waiting on jobs."""

import asyncio
import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lamplighter.firmware import ota
from lamplighter.firmware.tests import ota_fixtures
from lamplighter.ota import signing
from lamplighter.ota.models import Job

TEST_KEY = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(ota_fixtures.TEST_SIGNING_SEED_TEXT.encode()).digest()
)
PUBLIC_KEY_HEX = ota_fixtures.TEST_PUBLIC_KEY_HEX


def image(size: int, seed: int = 1) -> bytes:
    """A deterministic test image of this size."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    return (block * (size // len(block) + 1))[:size]


def signature_file(data: bytes, version: str, board: str = "host", key: Any = TEST_KEY, **extra: Any) -> str:
    """The .sig content for these bytes, signed with the test key (or another)."""
    manifest = ota.build_manifest(
        version, board, len(data), hashlib.sha256(data).hexdigest(), extra=extra or None
    )
    return json.dumps(signing.sign_manifest(key, manifest))


def content_signature_file(data: bytes, key: Any = TEST_KEY, kind: str = ota.KIND_IMAGE) -> str:
    """A content-only .sig (kind, size, SHA-256; no version, no board) for these bytes."""
    manifest = ota.build_content_manifest(len(data), hashlib.sha256(data).hexdigest(), kind)
    return json.dumps(signing.sign_manifest(key, manifest))


def upload(
    client: httpx.Client,
    data: bytes,
    version: str,
    board: str = "host",
    content_only: bool = False,
    **extra: Any,
) -> int:
    """Upload a signed artifact through the API (content_only: a signature that binds only the bytes); its id."""
    sig = content_signature_file(data) if content_only else signature_file(data, version, board, **extra)
    response = client.post(
        "/api/v1/firmware/artifacts",
        params={"version": version, "board": board},
        content=data,
        headers={"X-Lamplighter-Signature-File": base64.b64encode(sig.encode()).decode()},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def start_rollout(client: httpx.Client, artifact_id: int, device_pks: list[int], **options: Any) -> int:
    """Start a rollout through the API; its id."""
    response = client.post(
        "/api/v1/firmware/rollouts", json={"artifact_id": artifact_id, "device_ids": device_pks, **options}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def give_key(flash: Path, key_hex: str = PUBLIC_KEY_HEX) -> None:
    """Put the OTA public key on a device's flash."""
    flash.mkdir(parents=True, exist_ok=True)
    (flash / ota.PUBLIC_KEY_FILE).write_text(key_hex)


def jobs_done(rollout_id: int) -> list[Job] | None:
    """The rollout's jobs once none is queued or active, else None."""
    jobs = list(Job.objects.filter(rollout_id=rollout_id).select_related("device"))
    done = ("confirmed", "failed", "rolled_back", "canceled")
    return jobs if jobs and all(job.state in done for job in jobs) else None


class CuttingProxy:
    """A TCP proxy to the hub on loopback: the first image download is cut (or stalled) after N bytes."""

    def __init__(self, target_port: int, cut_after: int, stall: bool = False) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.stall = stall
        self.downloads: list[str] = []  # request heads of image downloads, in order
        self.served = 0  # image bytes passed to devices
        self.port = 0
        self._cut_done = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                self._loop = asyncio.get_running_loop()
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()
                async with self._server:
                    await self._server.serve_forever()

            try:
                asyncio.run(main())
            except (asyncio.CancelledError, RuntimeError):
                pass

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(5)

    @property
    def url(self) -> str:
        """The hub's address as the devices see it."""
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        head = await reader.read(65536)
        is_download = head.startswith(b"GET /device/firmware/")
        limit = None
        if is_download:
            self.downloads.append(head.decode("latin-1"))
            if not self._cut_done:
                self._cut_done = True
                limit = self.cut_after
        upstream_writer.write(head)

        async def forward_requests() -> None:
            try:
                while data := await reader.read(65536):
                    upstream_writer.write(data)
                    await upstream_writer.drain()
            except (ConnectionError, OSError):
                pass

        pump = asyncio.create_task(forward_requests())
        passed = 0
        try:
            while data := await upstream_reader.read(65536):
                if limit is not None and passed + len(data) > limit:
                    data = data[: limit - passed]
                    writer.write(data)
                    await writer.drain()
                    self.served += len(data)
                    if self.stall:
                        await asyncio.sleep(3600)  # hold the connection open, send nothing more
                    break
                passed += len(data)
                if is_download:
                    self.served += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            pump.cancel()
            for stream in (writer, upstream_writer):
                stream.close()

    def close(self) -> None:
        """Stop the proxy."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
