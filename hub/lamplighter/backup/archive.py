"""The backup file: a gzipped tar of a manifest, the rows, the secret key and the firmware files,
optionally encrypted with a passphrase (backup.crypto). Reading checks everything before use."""

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

from lamplighter.backup import crypto

FORMAT = "lamplighter-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_KEY = "secret_key"  # noqa: S105 - the member name, not a key
DATABASE = "database"
FIRMWARE = "firmware"
_GZIP_MAGIC = b"\x1f\x8b"


class BackupError(Exception):
    """A backup cannot be written, or an archive cannot be restored; the message says why."""


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def pack(folder: Path, manifest: dict[str, Any], target: Path, passphrase: str | None) -> dict[str, Any]:
    """Write folder's files (relative names) and the manifest, with every file's checksum, to
    `target`, atomically: a reader never sees a half-written archive under that name. Returns
    the manifest as written."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    manifest = {
        **manifest,
        "files": {
            p.relative_to(folder).as_posix(): {"sha256": sha256_of(p), "size": p.stat().st_size}
            for p in files
        },
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tempfile.TemporaryFile(dir=target.parent) as plain:
            with gzip.GzipFile(fileobj=plain, mode="wb", compresslevel=6, mtime=0) as zipped:
                with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mode = len(data), 0o600
                    tar.addfile(info, _bytes_reader(data))
                    for path in files:
                        tar.add(str(path), arcname=path.relative_to(folder).as_posix(), filter=_anonymous)
            plain.seek(0)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret key
            with os.fdopen(fd, "wb") as out:
                if passphrase:
                    crypto.encrypt(plain, out, passphrase)  # type: ignore[arg-type]
                else:
                    shutil.copyfileobj(plain, out)
                out.flush()
                os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def unpack(archive: Path, passphrase: str | None, into: Path) -> dict[str, Any]:
    """Extract and check an archive into the folder `into`; return its manifest.

    Raises BackupError, saying what is wrong, for a file that is not a Lamplighter backup, is
    damaged or cut short, fails a checksum, is encrypted without (or with another) passphrase,
    or comes from a newer archive format.
    """
    into.mkdir(parents=True, exist_ok=True)
    try:
        handle = archive.open("rb")
    except OSError as error:
        raise BackupError(f"cannot read {archive}: {error.strerror}") from error
    with handle:
        head = handle.read(len(crypto.MAGIC))
        handle.seek(0)
        if crypto.is_encrypted(head):
            if not passphrase:
                raise BackupError("the archive is encrypted: give its passphrase (--passphrase-file FILE)")
            plain_path = into / ".decrypted"
            try:
                with plain_path.open("wb") as plain:
                    for block in crypto.decrypt(handle, passphrase):
                        plain.write(block)
            except crypto.DecryptionError as error:
                raise BackupError(f"cannot decrypt the archive: {error}") from error
            try:
                return _extract(plain_path, into)
            finally:
                plain_path.unlink(missing_ok=True)
    if not head.startswith(_GZIP_MAGIC):
        raise BackupError(f"{archive} is not a Lamplighter backup")
    return _extract(archive, into)


def _extract(path: Path, into: Path) -> dict[str, Any]:
    found: dict[str, Path] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                name = _safe_name(member)
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file (_safe_name)
                with target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                found[name] = target
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BackupError(f"the archive is damaged or cut short ({error})") from error
    if MANIFEST not in found:
        raise BackupError("not a Lamplighter backup (no manifest)")
    try:
        manifest = json.loads(found.pop(MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError("the archive's manifest is damaged") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not a Lamplighter backup (foreign manifest)")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise BackupError("the archive's manifest is damaged (no format version)")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"the archive was made by a newer Lamplighter (format {version}, this one reads "
            f"{FORMAT_VERSION}): restore it with that release or a newer one"
        )
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not isinstance(manifest.get("counts"), dict):
        raise BackupError("the archive's manifest is damaged")
    if set(listed) != set(found):
        missing = sorted(set(listed) - set(found))
        raise BackupError(f"the archive is damaged: files missing or unexpected ({', '.join(missing[:5])})")
    for name, entry in listed.items():
        if not isinstance(entry, dict) or sha256_of(found[name]) != entry.get("sha256"):
            raise BackupError(f"the archive is damaged: {name} does not match its checksum")
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    """The member's name, refused unless it is a plain file at a plain relative path of ours."""
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or ".." in name.parts or not name.parts:
        raise BackupError(f"not a Lamplighter backup (unexpected member {member.name!r})")
    if name.as_posix() not in (MANIFEST, SECRET_KEY) and name.parts[0] not in (DATABASE, FIRMWARE):
        raise BackupError(f"not a Lamplighter backup (unexpected member {member.name!r})")
    return name.as_posix()


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No owner of this machine in the archive; readable by its owner only."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _bytes_reader(data: bytes) -> Any:
    import io

    return io.BytesIO(data)
