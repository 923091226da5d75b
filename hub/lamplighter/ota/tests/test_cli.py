"""`lamplighter firmware keygen|sign|upload|rollout|status`: the interface scripts rely on."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from factories import DeviceFactory, HomeFactory
from lamplighter.cli.main import main
from lamplighter.firmware import ota
from lamplighter.ota.models import Artifact, Job
from lamplighter.ota.tests import helpers

pytestmark = pytest.mark.django_db


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(["firmware", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_keygen_sign_upload_rollout_status(capsys: Any, tmp_path: Path, settings: Any) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "store"
    settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = False
    keys = tmp_path / "keys"
    assert run(capsys, "keygen", str(keys))[0] == 0
    private, public = keys / "firmware-signing.key", keys / "firmware-signing.pub"
    assert private.stat().st_mode & 0o777 == 0o600 and len(public.read_text().strip()) == 64
    assert run(capsys, "keygen", str(keys))[0] == 1  # never overwrites a key

    artifact = tmp_path / "lamplighter-0.2.0.bin"
    artifact.write_bytes(helpers.image(5000))
    code, _, err = run(capsys, "sign", str(artifact), "--key", str(private), "--version", "0.2.0")
    assert code == 2 and "--board" in err  # both or neither
    code, out, _ = run(
        capsys, "sign", str(artifact), "--key", str(private), "--version", "0.2.0", "--board", "host"
    )
    signature = Path(out.strip())
    assert code == 0 and signature == artifact.with_name(artifact.name + ".sig")
    manifest_text = json.loads(signature.read_text())["manifest"]
    assert ota.signature_ok(
        bytes.fromhex(public.read_text().strip()),
        manifest_text,
        json.loads(signature.read_text())["signature"],
    )
    # A sidecar with version and board makes the bare form work too.
    artifact.with_name(artifact.name + ".json").write_text('{"version": "0.2.0", "board": "host"}')
    assert run(capsys, "sign", str(artifact), "--key", str(private))[0] == 0

    code, _, err = run(capsys, "upload", str(artifact), "--version", "0.2.0", "--board", "host")
    assert code == 1 and "unsigned" in err
    code, out, _ = run(
        capsys,
        "upload",
        str(artifact),
        "--version",
        "0.2.0",
        "--board",
        "host",
        "--signature",
        str(signature),
    )
    assert code == 0
    artifact_id = int(out.strip())

    home = HomeFactory()
    devices = [DeviceFactory(home=home) for _ in range(3)]
    code, out, _ = run(
        capsys,
        "rollout",
        str(artifact_id),
        "--home",
        str(home.pk),
        "--batch-size",
        "2",
        "--failure-threshold",
        "50",
    )
    assert code == 0
    rollout_id = int(out.strip())
    code, out, _ = run(
        capsys,
        "rollout",
        str(artifact_id),
        "--device",
        devices[0].device_id,
        "--device",
        devices[1].device_id,
    )
    assert code == 0

    job = Job.objects.get(rollout_id=rollout_id, device=devices[1])
    job.state, job.reason = Job.State.FAILED, "wrong_board"
    job.save()
    code, out, _ = run(capsys, "status", str(rollout_id))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 3
    assert f"{devices[0].device_id} queued" in lines
    assert f"{devices[1].device_id} failed wrong_board" in lines


def test_bare_sign_writes_a_content_only_signature_that_upload_takes(
    capsys: Any, tmp_path: Path, settings: Any
) -> None:
    """The documented bare form: `sign ARTIFACT --key K`, then `upload ... --signature F` prints an id."""
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "store"
    settings.LAMPLIGHTER_ALLOW_UNSIGNED_FIRMWARE = False
    keys = tmp_path / "keys"
    assert run(capsys, "keygen", str(keys))[0] == 0
    private, public = keys / "firmware-signing.key", keys / "firmware-signing.pub"
    settings.LAMPLIGHTER_FIRMWARE_PUBLIC_KEYS = [public.read_text().strip()]
    artifact = tmp_path / "firmware.bin"
    data = helpers.image(6000)
    artifact.write_bytes(data)

    code, out, err = run(capsys, "sign", str(artifact), "--key", str(private))
    assert code == 0 and "content-only" in err
    signature = Path(out.strip())
    assert signature == tmp_path / "firmware.bin.sig" and signature.exists()
    content = json.loads(signature.read_text())
    manifest = ota.parse_manifest(content["manifest"])
    assert ota.is_content_manifest(manifest)
    assert manifest["size"] == 6000 and manifest["sha256"] == hashlib.sha256(data).hexdigest()
    assert ota.signature_ok(
        bytes.fromhex(public.read_text().strip()), content["manifest"], content["signature"]
    )

    argv = ["upload", str(artifact), "--board", "esp32", "--signature", str(signature)]
    code, out, err = run(capsys, *argv, "--version", "1.0.0")
    assert code == 0, err
    stored = Artifact.objects.get(pk=int(out.strip()))
    assert (stored.version, stored.board, stored.content_only) == ("1.0.0", "esp32", True)

    # The same signature does not fit other bytes.
    artifact.write_bytes(data[:-1] + b"x")
    code, _, err = run(capsys, *argv, "--version", "1.0.1")
    assert code == 1 and "sha256" in err


def test_full_signature_flags_must_match_at_upload(capsys: Any, tmp_path: Path, settings: Any) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "store"
    keys = tmp_path / "keys"
    assert run(capsys, "keygen", str(keys))[0] == 0
    artifact = tmp_path / "firmware.bin"
    artifact.write_bytes(helpers.image(3000))
    sign = ["sign", str(artifact), "--key", str(keys / "firmware-signing.key")]
    code, out, _ = run(capsys, *sign, "--version", "0.3.0", "--board", "host")
    assert code == 0
    manifest = ota.parse_manifest(json.loads(Path(out.strip()).read_text())["manifest"])
    assert (manifest["version"], manifest["board"]) == ("0.3.0", "host")
    upload = ["upload", str(artifact), "--signature", out.strip()]
    code, _, err = run(capsys, *upload, "--version", "0.3.1", "--board", "host")
    assert code == 1 and "does not match the upload: version" in err
    code, _, err = run(capsys, *upload, "--version", "0.3.0", "--board", "esp32")
    assert code == 1 and "board" in err
    code, out, _ = run(capsys, *upload, "--version", "0.3.0", "--board", "host")
    assert code == 0 and not Artifact.objects.get(pk=int(out.strip())).content_only
