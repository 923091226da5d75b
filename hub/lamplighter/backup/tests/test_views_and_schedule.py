"""The dashboard's backup page (staff only) and scheduled backups keeping the newest N."""

import os
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from factories import DEFAULT_TEST_PASSWORD, HomeFactory, UserFactory
from lamplighter.backup import archive, crypto
from lamplighter.backup.services import backup_scheduled_run, backups_list

pytestmark = pytest.mark.django_db(transaction=True)  # a backup reads committed rows


@pytest.fixture(autouse=True)
def folders(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    settings.LAMPLIGHTER_BACKUP_DIR = tmp_path / "backups"
    monkeypatch.setattr(crypto, "_SCRYPT", (10, 8, 1))


def logged_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=DEFAULT_TEST_PASSWORD)
    return client


def test_staff_download_a_backup_that_restores(tmp_path: Path) -> None:
    staff = UserFactory(is_staff=True)
    HomeFactory(owner=staff, name="Maple Street")
    client = logged_in(staff)
    # The list of homes (a user with one home lands on it; ?all=1 shows the list) links the backups.
    assert reverse("backup:page") in client.get(reverse("dashboard:index") + "?all=1").content.decode()
    assert client.get(reverse("backup:page")).status_code == 200
    response = client.post(reverse("backup:page"), {"passphrase": ""})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="lamplighter-backup-')
    downloaded = tmp_path / "downloaded.tar.gz"
    downloaded.write_bytes(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    manifest = archive.unpack(downloaded, None, tmp_path / "unpacked")
    assert manifest["counts"]["homes.home"] == 1
    assert not [p for p in Path(tmp_path).glob(".download-*")]
    encrypted = client.post(reverse("backup:page"), {"passphrase": "correct horse"})
    data = b"".join(encrypted.streaming_content)  # type: ignore[attr-defined]
    assert crypto.is_encrypted(data) and encrypted["Content-Disposition"].endswith('.tar.gz.enc"')


def test_owners_who_are_not_staff_get_no_backup() -> None:
    owner = UserFactory()
    HomeFactory(owner=owner)
    client = logged_in(owner)
    for response in (client.get(reverse("backup:page")), client.post(reverse("backup:page"), {})):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "Backups" not in client.get(reverse("dashboard:index")).content.decode()
    assert Client().post(reverse("backup:page")).status_code == 302


def test_scheduled_backups_keep_the_newest(settings: Any) -> None:
    settings.LAMPLIGHTER_BACKUP_INTERVAL = 3600
    settings.LAMPLIGHTER_BACKUP_KEEP = 2
    HomeFactory(owner=UserFactory())
    written = []
    now = time.time()
    for hour in range(4):
        path = backup_scheduled_run(now=now + hour * 3600)
        assert path is not None
        os.utime(path, (now + hour * 3600, now + hour * 3600))  # as if written that hour
        written.append(path)
        assert backup_scheduled_run(now=now + hour * 3600 + 60) is None  # not due again yet
    assert backups_list() == written[-2:]
    with tarfile.open(written[-1], "r:gz") as tar:
        assert archive.MANIFEST in tar.getnames()
    settings.LAMPLIGHTER_BACKUP_INTERVAL = 0
    assert backup_scheduled_run(now=now + 10 * 3600) is None


def test_scheduled_backups_can_be_encrypted(settings: Any, tmp_path: Path) -> None:
    settings.LAMPLIGHTER_BACKUP_INTERVAL = 3600
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse\n")
    settings.LAMPLIGHTER_BACKUP_PASSPHRASE_FILE = str(passphrase)
    path = backup_scheduled_run()
    assert path is not None and path.name.endswith(".tar.gz.enc")
    assert archive.unpack(path, "correct horse", tmp_path / "unpacked")["format"] == archive.FORMAT


async def test_the_servers_task_writes_scheduled_backups(settings: Any) -> None:
    import asyncio

    from asgiref.sync import sync_to_async

    from lamplighter.backup.scheduler import run_backups_forever

    settings.LAMPLIGHTER_BACKUP_INTERVAL = 1  # checked every second, due every second
    settings.LAMPLIGHTER_BACKUP_KEEP = 2
    await sync_to_async(HomeFactory)(owner=await sync_to_async(UserFactory)())
    task = asyncio.create_task(run_backups_forever())
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(backups_list()) < 2:
            assert asyncio.get_running_loop().time() < deadline, "no scheduled backup written"
            await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(backups_list()) == 2
