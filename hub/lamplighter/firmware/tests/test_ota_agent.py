"""The device's OTA agent on a real loopback socket: LAN push, every refusal, reboot, confirm, rollback."""

import asyncio
import binascii

import httpx
import pytest

from .. import ota, protocol
from ..app import Device
from ..hal.host import HostHal
from ..log import Logger
from . import ota_fixtures as fx
from .conftest import device_config, running_device


def hub_auth(device):
    return ("hub", device.lan_token)


def push_headers(name, job=5, force=False, signature=True, version=None, board=None):
    manifest, sig = fx.SIGNED[name]
    headers = {
        protocol.OTA_HEADER_JOB: str(job),
        protocol.OTA_HEADER_MANIFEST: binascii.b2a_base64(manifest.encode()).decode().strip(),
    }
    if signature:
        headers[protocol.OTA_HEADER_SIGNATURE] = sig
    if force:
        headers[protocol.OTA_HEADER_FORCE] = "1"
    if version is not None:
        headers[protocol.OTA_HEADER_VERSION] = version
    if board is not None:
        headers[protocol.OTA_HEADER_BOARD] = board
    return headers


def url(device):
    return "http://127.0.0.1:" + str(device.config["web"]["port"]) + protocol.DEVICE_UPDATE_PATH


@pytest.fixture
def keyed_flash(flash):
    (flash / ota.PUBLIC_KEY_FILE).write_text(fx.TEST_PUBLIC_KEY_HEX)
    return flash


@pytest.fixture
async def device(keyed_flash):
    async with running_device(keyed_flash, device_config()) as running:
        yield running


async def push(device, name="good", body=None, **options):
    async with httpx.AsyncClient(auth=hub_auth(device), timeout=10) as client:
        return await client.post(
            url(device), content=fx.image() if body is None else body, headers=push_headers(name, **options)
        )


def boot_again(flash, config):
    """A reboot: a new Device on the same flash (the host plays the bootloader)."""
    hal = HostHal(str(flash))
    return Device(hal, config, Logger(config["device_id"], hal, echo=False))


async def test_a_pushed_image_is_verified_switched_and_confirmed(keyed_flash):
    config = device_config()
    async with running_device(keyed_flash, config) as device:
        response = await push(device)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "rebooting", "version": "0.2.0", "boot_slot": 1}
        for _ in range(50):
            if device.restart_requested:
                break
            await asyncio.sleep(0.05)
        assert device.restart_requested
        assert device.status_payload()["firmware_version"] == "0.1.0"  # still the old image until reboot
    rebooted = boot_again(keyed_flash, config)
    status = rebooted.status_payload()
    assert status["firmware_version"] == "0.2.0" and status["boot_slot"] == 1
    assert rebooted.ota.slots.on_trial()
    rebooted.ota.on_welcome()  # the hub answered: keep the image, tell the hub
    assert not rebooted.ota.slots.on_trial()
    result = rebooted.hub._messages[-1]
    assert result["type"] == protocol.OTA_RESULT
    assert result["data"] == {"job": 5, "status": "confirmed", "version": "0.2.0", "boot_slot": 1}
    assert boot_again(keyed_flash, config).status_payload()["firmware_version"] == "0.2.0"


async def test_a_content_signed_image_takes_the_asserted_version(keyed_flash):
    config = device_config()
    async with running_device(keyed_flash, config) as device:
        response = await push(device, "content", version="0.2.0", board="host")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "rebooting", "version": "0.2.0", "boot_slot": 1}
    rebooted = boot_again(keyed_flash, config)
    assert rebooted.status_payload()["firmware_version"] == "0.2.0"
    rebooted.ota.on_welcome()
    assert rebooted.hub._messages[-1]["data"]["version"] == "0.2.0"


async def test_a_content_signed_offer_over_the_hub_link(device):
    manifest, signature = fx.SIGNED["content"]
    device.ota.handle_offer(
        protocol.build_ota_offer(3, "/x", manifest, signature, version="0.0.9", board="host")
    )
    result = device.hub._messages[-1]["data"]
    assert result["status"] == "failed" and result["reason"] == ota.REFUSED_DOWNGRADE
    assert device.ota.updater is None


async def test_an_image_that_does_not_come_up_is_rolled_back(keyed_flash):
    config = device_config()
    async with running_device(keyed_flash, config) as device:
        assert (await push(device, "fails_boot", job=8)).status_code == 200
    trial = boot_again(keyed_flash, config)
    assert trial.ota.boot_fails()
    await trial.run()  # the image "crashes" at start: no hub contact, asks for a restart
    assert trial.restart_requested
    back = boot_again(keyed_flash, config)
    assert back.status_payload()["firmware_version"] == "0.1.0" and back.ota.boot_slot() == 0
    back.ota.on_welcome()
    result = back.hub._messages[-1]["data"]
    assert result["status"] == "rolled_back" and result["job"] == 8 and result["reason"] == ota.FAILED_BOOT


@pytest.mark.parametrize(
    ("name", "options", "body", "code"),
    [
        ("esp32", {}, None, ota.REFUSED_WRONG_BOARD),
        ("older", {}, None, ota.REFUSED_DOWNGRADE),
        ("same", {}, None, ota.REFUSED_SAME_VERSION),
        ("good", {"signature": False}, None, ota.REFUSED_UNSIGNED),
        ("bad_hash", {}, None, ota.REFUSED_BAD_HASH),
        ("longer", {}, None, ota.REFUSED_TRUNCATED),
        ("good", {}, fx.image()[:-1] + b"X", ota.REFUSED_BAD_HASH),
        # Content-only signatures: the hub's asserted version and board are checked the same way.
        ("content", {"version": "0.2.0", "board": "esp32"}, None, ota.REFUSED_WRONG_BOARD),
        ("content", {"version": "0.0.9", "board": "host"}, None, ota.REFUSED_DOWNGRADE),
        ("content", {}, None, ota.REFUSED_BAD_MANIFEST),
        ("content", {"version": "0.2.0", "board": "host", "signature": False}, None, ota.REFUSED_UNSIGNED),
        ("content_other", {"version": "0.2.0", "board": "host"}, None, ota.REFUSED_BAD_HASH),
        ("good", {"version": "0.3.0", "board": "host"}, None, ota.REFUSED_BAD_MANIFEST),
    ],
)
async def test_refusals_keep_the_running_image(device, keyed_flash, name, options, body, code):
    response = await push(device, name, body, **options)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert device.ota.updater is None and not device.restart_requested
    assert device.ota.last_result == ("failed", code)
    assert device.status_payload()["boot_slot"] == 0


async def test_bad_signature_is_refused(device):
    async with httpx.AsyncClient(auth=hub_auth(device), timeout=10) as client:
        headers = push_headers("good")
        headers[protocol.OTA_HEADER_SIGNATURE] = fx.SIGNED["older"][1]
        response = await client.post(url(device), content=fx.image(), headers=headers)
    assert response.status_code == 400 and response.json()["code"] == ota.REFUSED_BAD_SIGNATURE


async def test_a_downgrade_passes_when_forced(device):
    response = await push(device, "older", force=True)
    assert response.status_code == 200


async def test_a_body_cut_short_is_truncated(device):
    """The connection ends before Content-Length bytes arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", device.config["web"]["port"])
    headers = push_headers("good")
    auth = binascii.b2a_base64(("hub:" + device.lan_token).encode()).decode().strip()
    head = (
        "POST "
        + protocol.DEVICE_UPDATE_PATH
        + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
        + auth
        + "\r\n"
    )
    head += "Content-Length: " + str(fx.IMAGE_SIZE) + "\r\n"
    for key, value in headers.items():
        head += key + ": " + value + "\r\n"
    writer.write(head.encode() + b"\r\n" + fx.image()[:6000])
    await writer.drain()
    writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert ota.REFUSED_TRUNCATED.encode() in answer
    assert device.ota.updater is None and device.status_payload()["boot_slot"] == 0


async def test_an_update_while_another_runs_is_refused(device):
    device.ota.updater = object()  # an update in progress
    response = await push(device)
    assert response.status_code == 409 and response.json()["code"] == ota.REFUSED_BUSY
    device.ota.updater = None


async def test_an_offer_while_busy_is_refused_over_the_hub_link(device):
    device.ota.updater = object()
    manifest, signature = fx.SIGNED["good"]
    device.ota.handle_offer(protocol.build_ota_offer(3, "/x", manifest, signature))
    result = device.hub._messages[-1]["data"]
    assert result["status"] == "failed" and result["reason"] == ota.REFUSED_BUSY
    device.ota.updater = None


async def test_only_credentials_may_push_and_others_keep_the_small_body_limit(device):
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url(device), content=fx.image(), headers=push_headers("good"))
        assert response.status_code == 401
        status = await client.post(
            "http://127.0.0.1:" + str(device.config["web"]["port"]) + "/control_led",
            content=b"x" * 20000,
            auth=hub_auth(device),
        )
        assert status.status_code == 413
