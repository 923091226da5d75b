"""An archive of an older release (fewer migrations, rows without the fields added since)
restores into this one: the rows come back, the new fields take their defaults."""

import gzip
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from factories import HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.backup import archive
from lamplighter.backup.services import backup_create
from lamplighter.tests.test_scale import HUB_DIR

# What the first release's archive lacked: this migration, and the fields it added.
LATER_MIGRATION = ("homes", "0002_home_timezone_location")
LATER_FIELDS = ("timezone", "latitude", "longitude")


def _as_older_release(good: Path, target: Path) -> Path:
    members = {}
    with tarfile.open(good, "r:gz") as tar:
        for member in tar:
            handle = tar.extractfile(member)
            assert handle is not None
            members[member.name] = handle.read()
    manifest = json.loads(members.pop(archive.MANIFEST))
    manifest["migrations"][LATER_MIGRATION[0]].remove(LATER_MIGRATION[1])
    homes = f"{archive.DATABASE}/homes.home.jsonl"
    rows = [json.loads(line) for line in members[homes].decode().splitlines()]
    for row in rows:
        for field in LATER_FIELDS:
            row["fields"].pop(field)
    members[homes] = "".join(json.dumps(row) + "\n" for row in rows).encode()
    manifest["files"][homes] = {
        "sha256": hashlib.sha256(members[homes]).hexdigest(),
        "size": len(members[homes]),
    }
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for name, data in [(archive.MANIFEST, json.dumps(manifest).encode()), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target.write_bytes(buffer.getvalue())
    return target


@pytest.mark.django_db(transaction=True)
def test_an_older_releases_archive_restores_with_defaults(settings: Any, tmp_path: Path) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    home = HomeFactory(owner=UserFactory(), name="Old home", timezone="Europe/Paris", latitude=48.8)
    LightFactory(room=RoomFactory(home=home, name="Hall"), name="Ceiling")
    good = tmp_path / "good.tar.gz"
    backup_create(target=good)
    older = _as_older_release(good, tmp_path / "older.tar.gz")

    env = {
        **os.environ,
        "LAMPLIGHTER_DATA_DIR": str(tmp_path / "target"),
        "LAMPLIGHTER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{HUB_DIR}{os.pathsep}{HUB_DIR.parent}",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "LAMPLIGHTER_FIRMWARE_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "lamplighter.cli.main", "restore", str(older)],
        cwd=HUB_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "target" / "lamplighter.sqlite3") as connection:
        homes = connection.execute("SELECT id, name, timezone, latitude FROM homes_home").fetchall()
        lights = connection.execute("SELECT name FROM lights_light").fetchall()
        applied = connection.execute(
            "SELECT 1 FROM django_migrations WHERE app = ? AND name = ?", LATER_MIGRATION
        ).fetchall()
    assert homes == [(home.pk, "Old home", "UTC", None)]  # the fields this release added: defaults
    assert lights == [("Ceiling",)]
    assert applied, "the target has every migration of this release"
