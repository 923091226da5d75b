"""Every bad archive is refused with a clear message, and the target is left as it was."""

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.backup import archive, crypto
from lamplighter.backup.services import backup_create
from lamplighter.homes.models import Home
from lamplighter.lights.models import Light
from lamplighter.ota.models import Artifact


@pytest.fixture
def hub(transactional_db: None, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hub with a home, a light and a firmware file; returns its (good) plain archive."""
    monkeypatch.setattr(crypto, "_SCRYPT", (10, 8, 1))
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    home = HomeFactory(owner=UserFactory())
    LightFactory(room=RoomFactory(home=home), device=DeviceFactory(home=home))
    settings.LAMPLIGHTER_FIRMWARE_DIR.mkdir()
    (settings.LAMPLIGHTER_FIRMWARE_DIR / "1-image.bin").write_bytes(b"firmware")
    Artifact.objects.create(
        version="2.0.0", board="host", size=8, sha256="0" * 64, manifest="{}", file_name="1-image.bin"
    )
    good = tmp_path / "good.tar.gz"
    backup_create(target=good)
    return good


def _rebuilt(good: Path, target: Path, change: Any) -> Path:
    """The good archive with its manifest changed by `change`, checksums still right."""
    members = {}
    with tarfile.open(good, "r:gz") as tar:
        for member in tar:
            handle = tar.extractfile(member)
            assert handle is not None
            members[member.name] = handle.read()
    manifest = json.loads(members.pop(archive.MANIFEST))
    change(manifest)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, data in [(archive.MANIFEST, json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target.write_bytes(buffer.getvalue())
    return target


def _state(settings: Any) -> tuple[Any, ...]:
    return (
        list(Home.objects.values_list("pk", "name")),
        list(Light.objects.values_list("pk", "desired_version")),
        sorted(p.name for p in Path(settings.LAMPLIGHTER_FIRMWARE_DIR).iterdir()),
    )


def test_each_bad_archive_is_refused_and_nothing_changes(hub: Path, settings: Any, tmp_path: Path) -> None:
    good = hub.read_bytes()
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse\n")
    wrong = tmp_path / "wrong"
    wrong.write_text("battery staple\n")
    encrypted = tmp_path / "encrypted.tar.gz.enc"
    backup_create(target=encrypted, passphrase="correct horse")
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0xFF
    foreign = io.BytesIO()
    with gzip.GzipFile(fileobj=foreign, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("README"), io.BytesIO(b""))
    linked = io.BytesIO()
    with gzip.GzipFile(fileobj=linked, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        link = tarfile.TarInfo("hub/lamplighter/firmware/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    files = {
        "a link": (tmp_path / "linked", linked.getvalue()),
        "corrupt": (tmp_path / "corrupt", bytes(flipped)),
        "truncated": (tmp_path / "truncated", good[: len(good) // 2]),
        "foreign": (tmp_path / "foreign", foreign.getvalue()),
        "not an archive": (tmp_path / "notes.txt", b"shopping list\n"),
        "empty": (tmp_path / "empty", b""),
    }
    for path, data in files.values():
        path.write_bytes(data)
    newer_format = _rebuilt(hub, tmp_path / "newer-format", lambda m: m.update(format_version=2))
    newer_schema = _rebuilt(
        hub, tmp_path / "newer-schema", lambda m: m["migrations"]["lights"].append("0999_from_the_future")
    )
    foreign_manifest = _rebuilt(hub, tmp_path / "foreign-manifest", lambda m: m.update(format="other"))
    miscounted = _rebuilt(hub, tmp_path / "miscounted", lambda m: m["counts"].update({"lights.light": 7}))
    cases = [
        (files["corrupt"][0], None, "damaged"),
        (files["truncated"][0], None, "damaged or cut short"),
        (files["foreign"][0], None, "not a Lamplighter backup"),
        (files["a link"][0], None, "unexpected member 'hub/lamplighter/firmware/escape'"),
        (files["not an archive"][0], None, "not a Lamplighter backup"),
        (files["empty"][0], None, "not a Lamplighter backup"),
        (tmp_path / "missing", None, "cannot read"),
        (newer_format, None, "made by a newer Lamplighter"),
        (newer_schema, None, "made by a newer Lamplighter"),
        (foreign_manifest, None, "not a Lamplighter backup"),
        (encrypted, wrong, "wrong passphrase"),
        (encrypted, None, "the archive is encrypted"),
        (hub, None, "not empty"),  # a good archive, but this hub has data
    ]
    before = _state(settings)
    for path, passphrase_file, expected in cases:
        args = [str(path)] + (["--passphrase-file", str(passphrase_file)] if passphrase_file else [])
        with pytest.raises(CommandError) as refused:
            call_command("restore", *args)
        assert expected in str(refused.value), (path.name, str(refused.value))
        assert "Nothing was changed" in str(refused.value)
        assert _state(settings) == before, path.name
    # A manifest whose counts disagree with the rows is caught while loading, in an empty target.
    assert miscounted.exists()


def test_a_miscounted_archive_leaves_an_empty_target_empty(hub: Path, settings: Any, tmp_path: Path) -> None:
    miscounted = _rebuilt(hub, tmp_path / "miscounted", lambda m: m["counts"].update({"lights.light": 7}))
    Artifact.objects.all().delete()
    Light.objects.all().delete()
    Home.objects.all().delete()
    from django.contrib.auth.models import User

    from lamplighter.devices.models import Device

    Device.objects.all().delete()
    User.objects.all().delete()
    for path in Path(settings.LAMPLIGHTER_FIRMWARE_DIR).iterdir():
        path.unlink()
    with pytest.raises(CommandError, match="lights.light has 1 rows, its manifest says 7"):
        call_command("restore", str(miscounted))
    assert not Home.objects.exists() and not Light.objects.exists()
    assert not any(Path(settings.LAMPLIGHTER_FIRMWARE_DIR).iterdir())
