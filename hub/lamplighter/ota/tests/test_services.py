"""OTA services without sockets: storing artifacts, signature rules, batches, the failure threshold, cancel."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError

from factories import DeviceFactory, HomeFactory
from lamplighter.firmware import protocol
from lamplighter.ota import services
from lamplighter.ota.models import Job, Rollout
from lamplighter.ota.tests import helpers

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def firmware_dir(settings: Any, tmp_path: Path) -> Path:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = False
    settings.LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS = []
    return tmp_path / "firmware"


def chunked(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def upload(data: bytes, version: str = "0.2.0", board: str = "host", **options: Any) -> Any:
    signature = options.pop("signature", helpers.signature_file(data, version, board))
    return services.artifact_upload(
        chunks=chunked(data), version=version, board=board, signature_file=signature, **options
    )


def test_a_signed_upload_is_hashed_and_stored_outside_the_database(firmware_dir: Path) -> None:
    data = helpers.image(12_345)
    artifact = upload(data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest() and artifact.size == 12_345
    assert (firmware_dir / artifact.file_name).read_bytes() == data
    assert json.loads(artifact.manifest)["version"] == "0.2.0" and len(artifact.signature) == 128
    assert not list(firmware_dir.glob("*.part"))


def test_unsigned_is_refused_unless_allowed(settings: Any) -> None:
    with pytest.raises(ValidationError, match="unsigned"):
        upload(helpers.image(100), signature=None)
    settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = True
    artifact = upload(helpers.image(100), signature=None)
    assert artifact.signature == "" and json.loads(artifact.manifest)["size"] == 100


@pytest.mark.parametrize(
    ("version", "board", "data"),
    [
        ("0.2.1", "host", helpers.image(500)),
        ("0.2.0", "esp32", helpers.image(500)),
        ("0.2.0", "host", helpers.image(501)),
    ],
)
def test_a_manifest_that_does_not_match_the_upload_is_refused(
    version: str, board: str, data: bytes, firmware_dir: Path
) -> None:
    signature = helpers.signature_file(helpers.image(500), "0.2.0", "host")
    with pytest.raises(ValidationError, match="does not match"):
        services.artifact_upload(chunks=[data], version=version, board=board, signature_file=signature)
    assert not list(firmware_dir.glob("*"))


def test_size_limit_and_hub_release_keys(settings: Any, firmware_dir: Path) -> None:
    settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="larger"):
        upload(helpers.image(1001))
    assert not list(firmware_dir.glob("*.part"))
    settings.LAMPLIGHTER_FIRMWARE_MAX_BYTES = 10_000
    settings.LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS = [helpers.PUBLIC_KEY_HEX]
    upload(helpers.image(900))
    other = helpers.signature_file(helpers.image(900), "0.3.0", key=Ed25519PrivateKey.generate())
    with pytest.raises(ValidationError, match="does not verify"):
        upload(helpers.image(900), "0.3.0", signature=other)


def test_a_content_only_signature_takes_version_and_board_from_the_upload(settings: Any) -> None:
    settings.LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS = [helpers.PUBLIC_KEY_HEX]
    data = helpers.image(700)
    artifact = upload(data, "0.4.0", "esp32", signature=helpers.content_signature_file(data))
    assert (artifact.version, artifact.board, artifact.kind) == ("0.4.0", "esp32", "image")
    assert artifact.content_only and "version" not in json.loads(artifact.manifest)
    # Over other bytes, another kind, or with a key the hub does not know: refused.
    other = helpers.content_signature_file(helpers.image(700, seed=2))
    with pytest.raises(ValidationError, match="does not match the upload: sha256"):
        upload(data, "0.5.0", signature=other)
    bundle = helpers.content_signature_file(data, kind="bundle")
    with pytest.raises(ValidationError, match="kind"):
        upload(data, "0.5.0", kind="image", signature=bundle)
    stranger = helpers.content_signature_file(data, key=Ed25519PrivateKey.generate())
    with pytest.raises(ValidationError, match="does not verify"):
        upload(data, "0.5.0", signature=stranger)


def test_offers_assert_version_and_board_for_content_only_signatures() -> None:
    device = DeviceFactory(home=HomeFactory())
    full = upload(helpers.image(100))
    data = helpers.image(200)
    content = upload(data, "0.3.0", signature=helpers.content_signature_file(data))
    assert not full.content_only
    offers = []
    for artifact in (full, content):
        rollout = services.rollout_create(artifact=artifact, devices=[device], start=False)
        offers.append(services.job_offer(rollout.jobs.get())["data"])
        rollout.jobs.all().delete()
    assert "version" not in offers[0] and "board" not in offers[0]
    assert (offers[1]["version"], offers[1]["board"]) == ("0.3.0", "host")
    assert offers[1]["manifest"] == content.manifest and offers[1]["signature"] == content.signature
    protocol.validate(protocol.envelope(protocol.OTA_OFFER, offers[1]))


def test_a_release_is_uploaded_once() -> None:
    upload(helpers.image(100))
    with pytest.raises(ValidationError, match="already"):
        upload(helpers.image(100))


def finish(job: Job, status: str = protocol.OTA_CONFIRMED, reason: str | None = None) -> None:
    job.refresh_from_db()
    job.state = Job.State.OFFERED
    job.save()
    data = {"job": job.pk, "status": status}
    if reason:
        data["reason"] = reason
    services.job_result(device=job.device, data=data)


def test_batches_threshold_and_cancel(django_capture_on_commit_callbacks: Any) -> None:
    home = HomeFactory()
    devices = [DeviceFactory(home=home) for _ in range(5)]
    artifact = upload(helpers.image(100))
    with django_capture_on_commit_callbacks(execute=True):
        rollout = services.rollout_create(
            artifact=artifact, devices=devices, batch_size=2, failure_threshold=20
        )
    jobs = list(rollout.jobs.order_by("pk"))
    assert [job.batch for job in jobs] == [0, 0, 1, 1, 2]
    assert {job.state for job in jobs} == {"queued"}  # nobody reachable yet
    with django_capture_on_commit_callbacks(execute=True):
        finish(jobs[0])
        finish(jobs[1])
    rollout.refresh_from_db()
    assert rollout.current_batch == 1 and rollout.status == Rollout.Status.RUNNING
    with django_capture_on_commit_callbacks(execute=True):
        finish(jobs[2], protocol.OTA_FAILED, "bad_hash")
        finish(jobs[3], protocol.OTA_ROLLED_BACK, "boot_failed")
    rollout.refresh_from_db()
    assert rollout.status == Rollout.Status.PAUSED and "2 of 5" in rollout.status_reason
    services.rollout_cancel(rollout=rollout)
    rollout.refresh_from_db()
    assert rollout.status == Rollout.Status.CANCELED
    assert Job.objects.get(pk=jobs[4].pk).state == "canceled"


def test_a_device_that_lost_its_download_is_offered_again() -> None:
    device = DeviceFactory()
    artifact = upload(helpers.image(100))
    rollout = services.rollout_create(artifact=artifact, devices=[device], start=False)
    job = rollout.jobs.get()
    job.state, job.path, job.received = Job.State.DOWNLOADING, "pull", 50
    job.save()
    [offer] = services.device_connected(device=device, data={}, connection="websocket")
    protocol.validate(offer, protocol.HUB_MESSAGE_TYPES)
    assert offer["data"]["job"] == job.pk and offer["data"]["url"] == f"/device/firmware/{job.pk}"
    assert offer["data"]["manifest"] == artifact.manifest
    job.refresh_from_db()
    assert (job.state, job.received) == ("offered", 0)


def test_silent_jobs_time_out(settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    device = DeviceFactory()
    rollout = services.rollout_create(artifact=upload(helpers.image(100)), devices=[device], start=False)
    Job.objects.filter(rollout=rollout).update(state=Job.State.DOWNLOADING)
    services.jobs_sweep(now=timezone.now() + timedelta(seconds=settings.LAMPLIGHTER_OTA_JOB_TIMEOUT + 1))
    job = rollout.jobs.get()
    assert (job.state, job.reason) == ("failed", "timeout")
