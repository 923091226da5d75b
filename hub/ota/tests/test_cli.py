"""`lamplighter firmware keygen|sign|upload|rollout|status`: the interface scripts rely on."""

import json
from pathlib import Path
from typing import Any

import pytest

from factories import DeviceFactory, HomeFactory
from firmware import ota
from lamplighter.cli import main
from ota.models import Job
from ota.tests import helpers

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
    code, _, err = run(capsys, "sign", str(artifact), "--key", str(private))
    assert code == 2 and "--version" in err  # the signature binds them
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
