"""An update in progress: the offer's checks, the download (pull) or the pushed body, the reboot.

The heavy half of the OTA agent (hub/lamplighter/firmware/ota_agent.py), imported on the first offer or push:
with the manifest checks (hub/lamplighter/firmware/ota.py) and Ed25519, it would otherwise hold about 20 KB of
a running device's heap for an update that may never come. It never holds more than one
block of the image in memory.
"""

import binascii

from . import http_client, ota, protocol, storage
from .compat import asyncio, const, exception_text, join_path, path_exists, sleep_ms, wait_for

_READ_SIZE = const(1024)  # small reads: a 4 KB one needs 4 KB of contiguous heap, rare on a board mid-update
_READ_TIMEOUT = const(20)
_MAX_RETRIES = const(6)  # connection cuts in a row (without progress) before a pull is given up
_PROGRESS_STEP = const(65536)  # report progress at most every this many bytes
_REBOOT_DELAY_MS = const(300)  # time for the last answer to leave before the reset


def public_key(agent):
    """The Ed25519 public key on flash, or None."""
    try:
        text = storage.read_text(join_path(agent.device.hal.flash_root, ota.PUBLIC_KEY_FILE))
        return binascii.unhexlify(text) if text else None
    except (OSError, ValueError):
        agent.device.log.error(ota.PUBLIC_KEY_FILE + " is not a hex Ed25519 key")
        return None


def allow_unsigned(agent):
    """True only when the development flag file is on flash."""
    return path_exists(join_path(agent.device.hal.flash_root, ota.ALLOW_UNSIGNED_FILE))


def check(agent, manifest_text, signature, force, version=None, board=None):
    """The offer's checks (busy included); returns the manifest or raises UpdateError.

    version and board are the hub's assertion, used only for a content manifest."""
    if agent.updater is not None:
        raise ota.UpdateError(ota.REFUSED_BUSY, "an update is already running")
    return ota.check_offer(
        manifest_text,
        signature,
        agent.device.config["board"],
        agent.running_version(),
        public_key(agent),
        allow_unsigned(agent),
        agent.slots.capacity(),
        force,
        version,
        board,
    )


def handle_offer(agent, message):
    """An ota.offer from the hub: check it, then download in the background."""
    data = message["data"]
    job = data["job"]
    if agent.updater is not None and getattr(agent.updater, "job", None) == job:
        return  # offered again after the hub link came back: the download goes on
    try:
        manifest = check(
            agent,
            data["manifest"],
            data.get("signature"),
            data.get("force", False),
            data.get("version"),
            data.get("board"),
        )
    except ota.UpdateError as error:
        agent.device.log.warning("update refused: " + str(error))
        agent.result(job, protocol.OTA_FAILED, error.code, error.detail)
        return
    agent.updater = ota.Updater(agent.slots, manifest, data["manifest"], job, agent.block_buffer)
    asyncio.create_task(_pull(agent, data["url"]))


async def _pull(agent, url):
    updater = agent.updater
    job = updater.job
    try:
        updater.begin()
        agent.progress(job, protocol.OTA_DOWNLOADING, 0, updater.size)
        failures = 0
        while updater.received < updater.size:
            before = updater.received
            target = url  # a path on the hub: on the one the device talks to now
            if not (url.startswith("http://") or url.startswith("https://")):
                target = (agent.device.hub.status["url"] or agent.device.config["hubs"][0]) + url
            try:
                await _download(agent, target, updater)
            except ota.UpdateError:
                raise
            except (OSError, EOFError, ValueError, asyncio.TimeoutError) as error:
                failures = 0 if updater.received > before else failures + 1
                if failures > _MAX_RETRIES:
                    code = ota.REFUSED_TRUNCATED if updater.received else ota.FAILED_DOWNLOAD
                    raise ota.UpdateError(code, str(error))
                agent.device.log.warning(
                    "download cut at " + str(updater.received) + " bytes (" + str(error) + "), resuming"
                )
                await asyncio.sleep(agent.retry_delay)
            except Exception as error:  # noqa: BLE001 - MemoryError, a bug: resume where it stopped
                failures += 1
                delay = agent.device.supervisor.failed("OTA transfer", error)
                if failures > _MAX_RETRIES:
                    raise ota.UpdateError(ota.FAILED_DOWNLOAD, exception_text(error))
                await asyncio.sleep(max(delay, agent.retry_delay))
        await _install(agent, updater)
    except ota.UpdateError as error:
        _fail(agent, updater, error)
    except Exception as error:  # noqa: BLE001 - never leave a transfer that no one runs
        agent.device.supervisor.failed("OTA transfer", error)
        _fail(agent, updater, ota.UpdateError(ota.FAILED_DOWNLOAD, exception_text(error)))


async def _download(agent, url, updater):
    """One GET from updater.received on (a Range request), written as it arrives."""
    hub = agent.device.hub
    scheme, host, port, path = http_client.parse_url(url)
    reader, writer = await http_client.open_stream(scheme, host, port, hub.ssl)
    try:
        lines = [
            "GET " + path + " HTTP/1.1",
            "Host: " + http_client.host_header(scheme, host, port),
            "Authorization: " + hub.auth,
            "Connection: close",
        ]
        if updater.received:
            lines.append("Range: bytes=" + str(updater.received) + "-")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await writer.drain()
        status, headers = await wait_for(http_client.read_head(reader), _READ_TIMEOUT)
        if status == 416:
            raise ota.UpdateError(
                ota.REFUSED_TRUNCATED, "the hub has only " + str(updater.received) + " bytes"
            )
        if (status != 200 and status != 206) or (updater.received and status != 206):
            raise ota.UpdateError(ota.FAILED_DOWNLOAD, "the hub answered HTTP " + str(status))
        length = int(headers.get("content-length", "-1"))
        remaining = length if length >= 0 else updater.size - updater.received
        next_report = updater.received + _PROGRESS_STEP
        buffer = memoryview(agent.read_buffer or bytearray(_READ_SIZE))
        while remaining > 0:
            block = await _read_block(reader, buffer, remaining)
            if not block:
                raise http_client.HttpError("connection cut")
            remaining -= len(block)
            updater.write(block)
            if updater.received >= next_report:
                next_report = updater.received + _PROGRESS_STEP
                agent.progress(updater.job, protocol.OTA_DOWNLOADING, updater.received, updater.size)
        if updater.received < updater.size:
            raise ota.UpdateError(ota.REFUSED_TRUNCATED, "the hub sent " + str(updater.received) + " bytes")
    finally:
        await http_client.close_stream(writer)


async def _read_block(stream, buffer, remaining):
    """The next bytes of a body (at most remaining), into buffer where the stream can (MicroPython):
    a new 1 KB bytes per read would fragment a board's heap over a 1.5 MB image."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        return await wait_for(stream.read(min(len(buffer), remaining)), _READ_TIMEOUT)
    count = await wait_for(readinto(buffer[: min(len(buffer), remaining)]), _READ_TIMEOUT)
    return buffer[:count]


async def _install(agent, updater):
    """All bytes are in: verify, switch the boot slot, say so, reboot."""
    agent.progress(updater.job, protocol.OTA_VERIFYING, updater.received, updater.size)
    updater.finish()
    agent.device.log.info("firmware " + updater.manifest["version"] + " verified, rebooting")
    agent.progress(updater.job, protocol.OTA_REBOOTING, updater.received, updater.size)
    await _flush(agent, 2000)
    agent.device.restart("firmware update")


def _fail(agent, updater, error):
    updater.abort()
    agent.updater = None
    agent.device.log.warning("update failed: " + str(error))
    agent.result(updater.job, protocol.OTA_FAILED, error.code, error.detail)


async def _flush(agent, timeout_ms):
    """Give queued messages a moment to reach the hub before the reset."""
    waited = 0
    while agent.device.hub.queued_messages() and waited < timeout_ms:
        await sleep_ms(50)
        waited += 50


async def handle_push(agent, request):
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
        manifest = check(
            agent,
            manifest_text,
            headers.get(protocol.OTA_HEADER_SIGNATURE),
            force,
            headers.get(protocol.OTA_HEADER_VERSION),
            headers.get(protocol.OTA_HEADER_BOARD),
        )
        if request.content_length > manifest["size"]:
            raise ota.UpdateError(ota.REFUSED_BAD_HASH, "the body is larger than the manifest's size")
    except ota.UpdateError as error:
        agent.device.log.warning("pushed update refused: " + str(error))
        agent.last_result = (protocol.OTA_FAILED, error.code)
        return 409 if error.code == ota.REFUSED_BUSY else 400, {"error": error.detail, "code": error.code}
    updater = agent.updater = ota.Updater(agent.slots, manifest, manifest_text, job, agent.block_buffer)
    try:
        updater.begin()
        remaining = request.content_length
        buffer = memoryview(agent.read_buffer or bytearray(_READ_SIZE))
        while remaining > 0:
            block = await _read_block(request.stream, buffer, remaining)
            if not block:
                break
            remaining -= len(block)
            updater.write(block)
        updater.finish()
    except ota.UpdateError as error:
        updater.abort()
        agent.updater = None
        agent.last_result = (protocol.OTA_FAILED, error.code)
        agent.device.log.warning("pushed update failed: " + str(error))
        return 400, {"error": error.detail, "code": error.code}
    except (OSError, asyncio.TimeoutError) as error:
        updater.abort()
        agent.updater = None
        agent.last_result = (protocol.OTA_FAILED, ota.REFUSED_TRUNCATED)
        return 400, {"error": str(error), "code": ota.REFUSED_TRUNCATED}
    agent.device.log.info("firmware " + manifest["version"] + " pushed and verified, rebooting")
    asyncio.create_task(_reboot_soon(agent))
    return 200, {"status": protocol.OTA_REBOOTING, "version": manifest["version"], "boot_slot": updater.slot}


async def _reboot_soon(agent):
    await sleep_ms(_REBOOT_DELAY_MS)
    agent.device.restart("firmware update")
