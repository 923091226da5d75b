"""Passphrase encryption of a backup archive: scrypt, then AES-256-GCM over 1 MiB chunks.

Layout: MAGIC, scrypt's log2(n), r and p (one byte each), a 16-byte salt, a 32-byte check
value derived with the key (a wrong passphrase is told apart from a damaged file), a 7-byte
nonce prefix; then chunks, each a 4-byte length and its ciphertext. A chunk's nonce is the
prefix, its index and a last-chunk flag, and the whole header is authenticated with every
chunk: chunks cannot be reordered, dropped or cut off at the end unnoticed.
"""

import hashlib
import hmac
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"LAMPLIGHTER-BACKUP-AES1\n"
CHUNK = 1024 * 1024
_SCRYPT = (15, 8, 1)  # n = 2**15: ~0.1 s and 32 MiB per derivation
_PREFIX = struct.Struct(">BBB16s32s7s")
MAX_LOG_N = 17  # refuse headers asking for absurd work (a damaged or hostile file): 128 MiB at r=8


class DecryptionError(Exception):
    """The passphrase is wrong, or the encrypted archive is damaged or cut short."""


def is_encrypted(head: bytes) -> bool:
    """Whether a file starting with these bytes is an encrypted archive."""
    return head.startswith(MAGIC)


def _derive(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> tuple[bytes, bytes]:
    material = Scrypt(salt=salt, length=64, n=2**log_n, r=r, p=p).derive(passphrase.encode())
    return material[:32], hashlib.sha256(b"lamplighter-backup-check" + material[32:]).digest()


def encrypt(source: BinaryIO, target: BinaryIO, passphrase: str) -> None:
    """Encrypt the whole of `source` into `target`."""
    if not passphrase:
        raise ValueError("the passphrase is empty")
    salt, prefix = os.urandom(16), os.urandom(7)
    key, check = _derive(passphrase, salt, *_SCRYPT)
    header = MAGIC + _PREFIX.pack(*_SCRYPT, salt, check, prefix)
    target.write(header)
    aead = AESGCM(key)
    index = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        sealed = aead.encrypt(_nonce(prefix, index, last), chunk, header)
        target.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1


def decrypt(source: BinaryIO, passphrase: str) -> Iterator[bytes]:
    """The plaintext of an encrypted archive, chunk by chunk; DecryptionError on any problem."""
    header = source.read(len(MAGIC) + _PREFIX.size)
    if len(header) < len(MAGIC) + _PREFIX.size or not header.startswith(MAGIC):
        raise DecryptionError("the encrypted archive is cut short")
    log_n, r, p, salt, check, prefix = _PREFIX.unpack(header[len(MAGIC) :])
    if not (10 <= log_n <= MAX_LOG_N and 1 <= r <= 8 and 1 <= p <= 4):
        raise DecryptionError("the encrypted archive's header is damaged")
    try:
        key, expected = _derive(passphrase, salt, log_n, r, p)
    except (ValueError, MemoryError) as error:
        raise DecryptionError("the encrypted archive's header is damaged") from error
    if not hmac.compare_digest(check, expected):
        raise DecryptionError("wrong passphrase")
    aead = AESGCM(key)
    index = 0
    while True:
        length = source.read(4)
        if len(length) < 4:
            raise DecryptionError("the encrypted archive is cut short")
        (size,) = struct.unpack(">I", length)
        if size > CHUNK + 16:
            raise DecryptionError("the encrypted archive is damaged")
        sealed = source.read(size)
        if len(sealed) < size:
            raise DecryptionError("the encrypted archive is cut short")
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, index, last), sealed, header)
            except Exception:  # noqa: BLE001, S112 - InvalidTag: try the other flag, then give up
                continue
            break
        else:
            raise DecryptionError("the encrypted archive is damaged (a chunk fails its check)")
        yield plain
        if last:
            if source.read(1):
                raise DecryptionError("the encrypted archive has data after its end")
            return
        index += 1


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, 1 if last else 0)
