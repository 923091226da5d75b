"""The device's OTA agent: takes an ota.offer (pull) or a LAN push, streams, reports, reboots.

Thin async glue around firmware/ota.py (checks, updater) and the slots; it never holds more
than one block of the image in memory. After a reboot it confirms the new image once the
hub has welcomed it, or reports the rollback the bootloader made (docs/ota.md).
"""

import binascii

from firmware import http_client, ota, protocol, storage
from firmware.compat import asyncio, join_path, path_exists, sleep_ms, wait_for

READ_SIZE = 4096
READ_TIMEOUT = 20
MAX_RETRIES = 6  # connection cuts in a row (without progress) before a pull is given up
PROGRESS_STEP = 65536  # report progress at most every this many bytes
REBOOT_DELAY_MS = 300  # time for the last answer to leave before the reset


class OtaAgent:
    """One device's updates; device gives hal, config, log, hub and reboot()."""

    def __init__(self, device, factory_version):
        self.device = device
        self.factory_version = factory_version
        self.slots = device.hal.ota_slots()
        self.updater = None
        self.retry_delay = 0.5
        self.rolled_back = self.slots.take_rollback()
        self.last_result = None  # (status, reason) of the last update, for /status and tests
        if self.rolled_back is not None:
            device.log.warning(
                "firmware " + str(self.rolled_back.get("version")) + " did not come up: rolled back"
            )

    # ---- what runs --------------------------------------------------------------------------

    def running_manifest(self):
        """The manifest of the running image (None for the factory image)."""
        return self.slots.slot_manifest(self.slots.running_slot())

    def running_version(self):
        """The version this boot runs."""
        manifest = self.running_manifest()
        return manifest["version"] if manifest else self.factory_version

    def boot_slot(self):
        """The slot this boot runs."""
        return self.slots.running_slot()

    def boot_fails(self):
        """Simulator only: the running image is marked as one that never comes up."""
        manifest = self.running_manifest()
        return bool(manifest and manifest.get(ota.SIMULATE_BOOT_FAILURE))

    def public_key(self):
        """The Ed25519 public key on flash, or None."""
        try:
            text = storage.read_text(join_path(self.device.hal.flash_root, ota.PUBLIC_KEY_FILE))
            return binascii.unhexlify(text) if text else None
        except (OSError, ValueError):
            self.device.log.error(ota.PUBLIC_KEY_FILE + " is not a hex Ed25519 key")
            return None

    def allow_unsigned(self):
        """True only when the development flag file is on flash."""
        return path_exists(join_path(self.device.hal.flash_root, ota.ALLOW_UNSIGNED_FILE))

    # ---- after a reboot --------------------------------------------------------------------

    def on_welcome(self):
        """The hub answered our hello: a new image on trial is good; report what happened."""
        if self.slots.on_trial():
            confirmed = self.slots.mark_valid()
            self.device.log.info("firmware " + self.running_version() + " confirmed")
            self._result(confirmed.get("job"), protocol.OTA_CONFIRMED)
        if self.rolled_back is not None:
            record, self.rolled_back = self.rolled_back, None
            self._result(
                record.get("job"),
                protocol.OTA_ROLLED_BACK,
                ota.FAILED_BOOT,
                "firmware " + str(record.get("version")) + " did not come up",
            )

    def _result(self, job, status, reason=None, detail=None):
        self.last_result = (status, reason)
        if job is not None:
            self.device.hub.send(
                protocol.build_ota_result(
                    job, status, reason, detail, self.running_version(), self.boot_slot()
                )
            )

    def _progress(self, job, state, received, size):
        if job is not None:
            self.device.hub.send(protocol.build_ota_progress(job, state, received, size))

    # ---- starting an update ----------------------------------------------------------------

    def _check(self, manifest_text, signature, force, version=None, board=None):
        """The offer's checks (busy included); returns the manifest or raises UpdateError.

        version and board are the hub's assertion, used only for a content manifest."""
        if self.updater is not None:
            raise ota.UpdateError(ota.REFUSED_BUSY, "an update is already running")
        return ota.check_offer(
            manifest_text,
            signature,
            self.device.config["board"],
            self.running_version(),
            self.public_key(),
            self.allow_unsigned(),
            self.slots.capacity(),
            force,
            version,
            board,
        )

    def handle_offer(self, message):
        """An ota.offer from the hub: check it, then download in the background."""
        data = message["data"]
        job = data["job"]
        if self.updater is not None and getattr(self.updater, "job", None) == job:
            return  # offered again after the hub link came back: the download goes on
        try:
            manifest = self._check(
                data["manifest"],
                data.get("signature"),
                data.get("force", False),
                data.get("version"),
                data.get("board"),
            )
        except ota.UpdateError as error:
            self.device.log.warning("update refused: " + str(error))
            self._result(job, protocol.OTA_FAILED, error.code, error.detail)
            return
        self.updater = ota.Updater(self.slots, manifest, data["manifest"], job)
        asyncio.create_task(self._pull(data["url"]))

    def _absolute(self, url):
        if url.startswith("http://") or url.startswith("https://"):
            return url
        hub_url = self.device.hub.status["url"] or self.device.config["hubs"][0]
        return hub_url + url

    async def _pull(self, url):
        updater = self.updater
        job = updater.job
        try:
            updater.begin()
            self._progress(job, protocol.OTA_DOWNLOADING, 0, updater.size)
            failures = 0
            while updater.received < updater.size:
                before = updater.received
                try:
                    await self._download(self._absolute(url), updater)
                except (OSError, EOFError, ValueError, asyncio.TimeoutError) as error:
                    failures = 0 if updater.received > before else failures + 1
                    if failures > MAX_RETRIES:
                        code = ota.REFUSED_TRUNCATED if updater.received else ota.FAILED_DOWNLOAD
                        raise ota.UpdateError(code, str(error))
                    self.device.log.warning(
                        "download cut at " + str(updater.received) + " bytes (" + str(error) + "), resuming"
                    )
                    await asyncio.sleep(self.retry_delay)
            await self._install(updater)
        except ota.UpdateError as error:
            self._fail(updater, error)

    async def _download(self, url, updater):
        """One GET from updater.received on (a Range request), written as it arrives."""
        scheme, host, port, path = http_client.parse_url(url)
        reader, writer = await http_client.open_stream(scheme, host, port, self.device.hub.ssl)
        try:
            lines = [
                "GET " + path + " HTTP/1.1",
                "Host: " + http_client.host_header(scheme, host, port),
                "Authorization: " + self.device.hub.auth,
                "Connection: close",
            ]
            if updater.received:
                lines.append("Range: bytes=" + str(updater.received) + "-")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
            await writer.drain()
            status, headers = await wait_for(http_client.read_head(reader), READ_TIMEOUT)
            if status == 416:
                raise ota.UpdateError(
                    ota.REFUSED_TRUNCATED, "the hub has only " + str(updater.received) + " bytes"
                )
            if status not in (200, 206) or (updater.received and status != 206):
                raise ota.UpdateError(ota.FAILED_DOWNLOAD, "the hub answered HTTP " + str(status))
            length = int(headers.get("content-length", "-1"))
            remaining = length if length >= 0 else updater.size - updater.received
            next_report = updater.received + PROGRESS_STEP
            while remaining > 0:
                block = await wait_for(reader.read(min(READ_SIZE, remaining)), READ_TIMEOUT)
                if not block:
                    raise http_client.HttpError("connection cut")
                remaining -= len(block)
                updater.write(block)
                if updater.received >= next_report:
                    next_report = updater.received + PROGRESS_STEP
                    self._progress(updater.job, protocol.OTA_DOWNLOADING, updater.received, updater.size)
            if updater.received < updater.size:
                raise ota.UpdateError(
                    ota.REFUSED_TRUNCATED, "the hub sent " + str(updater.received) + " bytes"
                )
        finally:
            await http_client.close_stream(writer)

    async def _install(self, updater):
        """All bytes are in: verify, switch the boot slot, say so, reboot."""
        self._progress(updater.job, protocol.OTA_VERIFYING, updater.received, updater.size)
        updater.finish()
        self.device.log.info("firmware " + updater.manifest["version"] + " verified, rebooting")
        self._progress(updater.job, protocol.OTA_REBOOTING, updater.received, updater.size)
        await self._flush(2000)
        self.device.restart("firmware update")

    def _fail(self, updater, error):
        updater.abort()
        self.updater = None
        self.device.log.warning("update failed: " + str(error))
        self._result(updater.job, protocol.OTA_FAILED, error.code, error.detail)

    async def _flush(self, timeout_ms):
        """Give queued messages a moment to reach the hub before the reset."""
        waited = 0
        while self.device.hub.queued_messages() and waited < timeout_ms:
            await sleep_ms(50)
            waited += 50

    # ---- LAN push (the seed's /django_update_firmware) --------------------------------------

    async def handle_push(self, request):
        """The hub streams the image in the body; answers (status, body) once it is verified."""
        headers = request.headers
        job_text = headers.get(protocol.OTA_HEADER_JOB) or ""
        job = int(job_text) if job_text.isdigit() else None
        try:
            try:
                manifest_text = binascii.a2b_base64(headers.get(protocol.OTA_HEADER_MANIFEST) or "").decode(
                    "utf-8"
                )
            except (ValueError, UnicodeError):
                raise ota.UpdateError(ota.REFUSED_BAD_MANIFEST, "the manifest header is not base64")
            force = headers.get(protocol.OTA_HEADER_FORCE) == "1"
            manifest = self._check(
                manifest_text,
                headers.get(protocol.OTA_HEADER_SIGNATURE),
                force,
                headers.get(protocol.OTA_HEADER_VERSION),
                headers.get(protocol.OTA_HEADER_BOARD),
            )
            if request.content_length > manifest["size"]:
                raise ota.UpdateError(ota.REFUSED_BAD_HASH, "the body is larger than the manifest's size")
        except ota.UpdateError as error:
            self.device.log.warning("pushed update refused: " + str(error))
            self.last_result = (protocol.OTA_FAILED, error.code)
            return 409 if error.code == ota.REFUSED_BUSY else 400, {"error": error.detail, "code": error.code}
        updater = self.updater = ota.Updater(self.slots, manifest, manifest_text, job)
        try:
            updater.begin()
            remaining = request.content_length
            while remaining > 0:
                block = await wait_for(request.stream.read(min(READ_SIZE, remaining)), READ_TIMEOUT)
                if not block:
                    break
                remaining -= len(block)
                updater.write(block)
            updater.finish()
        except ota.UpdateError as error:
            updater.abort()
            self.updater = None
            self.last_result = (protocol.OTA_FAILED, error.code)
            self.device.log.warning("pushed update failed: " + str(error))
            return 400, {"error": error.detail, "code": error.code}
        except (OSError, asyncio.TimeoutError) as error:
            updater.abort()
            self.updater = None
            self.last_result = (protocol.OTA_FAILED, ota.REFUSED_TRUNCATED)
            return 400, {"error": str(error), "code": ota.REFUSED_TRUNCATED}
        self.device.log.info("firmware " + manifest["version"] + " pushed and verified, rebooting")
        asyncio.create_task(self._reboot_soon())
        return 200, {
            "status": protocol.OTA_REBOOTING,
            "version": manifest["version"],
            "boot_slot": updater.slot,
        }

    async def _reboot_soon(self):
        await sleep_ms(REBOOT_DELAY_MS)
        self.device.restart("firmware update")
