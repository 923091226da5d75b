"""Writing a backup, restoring one, and the scheduled backups that keep the last N."""

import fcntl
import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction

from lamplighter.backup import archive, snapshot
from lamplighter.backup.archive import BackupError

logger = logging.getLogger(__name__)

FILE_PREFIX = "lamplighter-backup-"


def hub_version() -> str:
    """The installed hub's version."""
    try:
        return metadata.version("lamplighter")
    except metadata.PackageNotFoundError:
        return "unknown"


def backup_create(*, target: Path, passphrase: str | None = None) -> dict[str, Any]:
    """Write one consistent backup of the hub to `target`; return its manifest."""
    from lamplighter.infra.migration_check import backup_problem
    from lamplighter.ota.models import Artifact

    problem = backup_problem()  # this code's models would not read another schema
    if problem:
        raise BackupError(f"cannot back up: {problem}")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=settings.DATA_DIR) as work:
        folder = Path(work) / "archive"
        with snapshot.snapshot_alias(Path(work)) as alias:
            counts = snapshot.dump_rows(alias, folder / archive.DATABASE)
            migrations = snapshot.applied_migrations(alias)
            firmware = list(
                Artifact.objects.using(alias).exclude(file_name="").values_list("file_name", flat=True)
            )
        missing = _copy_firmware(firmware, folder / archive.FIRMWARE)
        key_path = folder / archive.SECRET_KEY
        key_path.write_text(settings.SECRET_KEY)
        key_path.chmod(0o600)
        manifest = {
            "format": archive.FORMAT,
            "format_version": archive.FORMAT_VERSION,
            "hub_version": hub_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database_engine": connections["default"].vendor,
            "migrations": migrations,
            "counts": counts,
            "firmware_missing": missing,
        }
        return archive.pack(folder, manifest, target, passphrase)


def _copy_firmware(names: list[str], folder: Path) -> list[str]:
    """Copy the artifacts' files; return the names of those not found (deleted meanwhile, or by hand)."""
    source = Path(settings.LAMPLIGHTER_FIRMWARE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in names:
        if "/" in name or name.startswith("."):
            missing.append(name)
            continue
        try:
            shutil.copy2(source / name, folder / name)
        except FileNotFoundError:
            logger.warning("backup: firmware file %s of an artifact is missing", name)
            missing.append(name)
    return missing


def backup_restore(*, source: Path, passphrase: str | None = None) -> dict[str, Any]:
    """Restore an archive into this hub's empty database and data directory; return its manifest.

    Everything is checked before the target is touched, and the database is built in one go
    (SQLite: a new file moved into place; PostgreSQL: one transaction), so a refused or failed
    restore leaves the target as it was.
    """
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as work:
        folder = Path(work) / "archive"
        manifest = archive.unpack(source, passphrase, folder)
        _check_restorable(manifest)
        problem = target_problem()
        if problem:
            raise BackupError(problem)
        files = _database_files(folder, manifest)
        if connections["default"].vendor == "sqlite":
            _restore_sqlite(files, manifest, Path(work))
        else:
            with transaction.atomic(using="default"):
                call_command("migrate", interactive=False, verbosity=0)
                _load("default", files, manifest)
        _place_firmware(folder / archive.FIRMWARE)
        _place_secret_key(folder / archive.SECRET_KEY)
    return manifest


def _check_restorable(manifest: dict[str, Any]) -> None:
    from lamplighter.infra.migration_check import unknown_migrations

    migrations = manifest.get("migrations")
    if not isinstance(migrations, dict) or not all(
        isinstance(names, list) and all(isinstance(n, str) for n in names) for names in migrations.values()
    ):
        raise BackupError("the archive's manifest is damaged (migrations)")
    newer = unknown_migrations(migrations)
    if newer:
        raise BackupError(
            f"the archive was made by a newer Lamplighter ({manifest.get('hub_version')}; its database has "
            f"{', '.join(newer[:5])}, unknown to this release): install that release or a newer one, then restore"
        )
    for label, count in manifest["counts"].items():
        if not isinstance(count, int):
            raise BackupError("the archive's manifest is damaged (counts)")
        try:
            apps.get_model(label)
        except (LookupError, ValueError) as error:
            raise BackupError(f"the archive holds rows of {label}, unknown to this release") from error


def target_problem() -> str:
    """Why this hub cannot be restored into ("" when its database and firmware folder are empty)."""
    connection = connections["default"]
    tables = set(connection.introspection.table_names())
    for model in snapshot.dumped_models():
        if model._meta.db_table in tables and model._base_manager.exists():
            return (
                f"the target database is not empty (it has {model._meta.verbose_name_plural}): restore into "
                "an empty data directory (LAMPLIGHTER_DATA_DIR) or a fresh database (DATABASE_URL)"
            )
    firmware = Path(settings.LAMPLIGHTER_FIRMWARE_DIR)
    if firmware.is_dir() and any(firmware.iterdir()):
        return f"the firmware folder {firmware} is not empty: restore into an empty data directory"
    return ""


def _database_files(folder: Path, manifest: dict[str, Any]) -> list[Path]:
    """The rows' files to load, in the order the models refer to each other (empty ones left out)."""
    counts = manifest["counts"]
    order = [model._meta.label_lower for model in snapshot.dumped_models()]
    labels = [label for label in order if counts.get(label)] + sorted(
        label for label in counts if counts[label] and label not in order
    )
    files = []
    for label in labels:
        path = folder / archive.DATABASE / f"{label}.jsonl"
        if not path.is_file():
            raise BackupError(f"the archive is damaged: the rows of {label} are missing")
        files.append(path)
    return files


def _restore_sqlite(files: list[Path], manifest: dict[str, Any], work: Path) -> None:
    default = connections["default"]
    target = Path(default.settings_dict["NAME"])
    building = work / "restored.sqlite3"
    alias = snapshot.add_sqlite_alias(building)
    try:
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        with transaction.atomic(using=alias):
            _load(alias, files, manifest)
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        snapshot.drop_alias(alias)
    default.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.move(str(building), str(target))
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)


def _load(alias: str, files: list[Path], manifest: dict[str, Any]) -> None:
    """Load the rows into `alias` (in the caller's transaction) and check every count."""
    from django.core.serializers.base import DeserializationError
    from django.db import DatabaseError

    from lamplighter.devices.models import Device

    try:
        if files:
            call_command("loaddata", *map(str, files), database=alias, verbosity=0, ignorenonexistent=True)
    except (DeserializationError, DatabaseError, ValueError) as error:
        raise BackupError(f"the archive's rows cannot be loaded: {error}") from error
    # No socket of the old hub is open here: every device shows offline until it reconnects.
    Device.objects.using(alias).update(online=False, connection="", channel_name="")
    for label, count in manifest["counts"].items():
        found = apps.get_model(label)._base_manager.using(alias).count()
        if found != count:
            raise BackupError(f"the archive is damaged: {label} has {found} rows, its manifest says {count}")


def _place_firmware(folder: Path) -> None:
    if not folder.is_dir():
        return
    target = Path(settings.LAMPLIGHTER_FIRMWARE_DIR)
    target.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        shutil.move(str(path), str(target / path.name))


def _place_secret_key(path: Path) -> None:
    if not path.is_file():
        return
    if os.environ.get("LAMPLIGHTER_SECRET_KEY"):
        logger.warning(
            "LAMPLIGHTER_SECRET_KEY is set: it stays this hub's key (sessions of the old hub end); "
            "the backup's key was not written"
        )
        return
    key_path = Path(settings.DATA_DIR) / "secret_key"
    fd = os.open(key_path.with_suffix(".restoring"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(path.read_text().strip())
    os.replace(key_path.with_suffix(".restoring"), key_path)


# ---- scheduled backups ---------------------------------------------------------------------------


def backup_directory() -> Path:
    """Where scheduled backups go."""
    return Path(settings.LAMPLIGHTER_BACKUP_DIR)


def backup_file_name(now: datetime, encrypted: bool) -> str:
    """A scheduled backup's file name: its time sorts it."""
    return f"{FILE_PREFIX}{now:%Y%m%dT%H%M%SZ}.tar.gz{'.enc' if encrypted else ''}"


def backups_list() -> list[Path]:
    """The scheduled backups present, oldest first."""
    folder = backup_directory()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(FILE_PREFIX) and p.is_file())


def scheduled_passphrase() -> str | None:
    """The passphrase of scheduled backups (from LAMPLIGHTER_BACKUP_PASSPHRASE_FILE), or None."""
    name = settings.LAMPLIGHTER_BACKUP_PASSPHRASE_FILE
    return read_passphrase(Path(name)) if name else None


def read_passphrase(path: Path) -> str:
    """A passphrase file's first line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BackupError(f"cannot read the passphrase file {path}: {error}") from error
    passphrase = text.splitlines()[0].strip() if text.strip() else ""
    if not passphrase:
        raise BackupError(f"the passphrase file {path} is empty")
    return passphrase


def backup_scheduled_run(*, now: float | None = None) -> Path | None:
    """Write a backup when the newest is older than LAMPLIGHTER_BACKUP_INTERVAL, then keep the
    newest LAMPLIGHTER_BACKUP_KEEP; return the new file (None when none was due). One worker at
    a time (a lock file), so several workers write one backup."""
    interval = settings.LAMPLIGHTER_BACKUP_INTERVAL
    if interval <= 0:
        return None
    folder = backup_directory()
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    with (folder / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # another worker is writing it
        existing = backups_list()
        if existing and now - existing[-1].stat().st_mtime < interval:
            return None
        passphrase = scheduled_passphrase()
        target = folder / backup_file_name(datetime.fromtimestamp(now, UTC), bool(passphrase))
        backup_create(target=target, passphrase=passphrase)
        backups_prune(keep=settings.LAMPLIGHTER_BACKUP_KEEP)
        return target


def backups_prune(*, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups; return those deleted."""
    existing = backups_list()
    doomed = existing[: max(0, len(existing) - max(1, keep))]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
