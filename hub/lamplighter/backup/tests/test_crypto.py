"""Passphrase encryption: round trips, and every way a file can be wrong is told apart."""

import io
import os
import struct

import pytest

from lamplighter.backup import crypto

PASSPHRASE = "correct horse"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 1 KiB, so a small text spans several; a cheap key derivation."""
    monkeypatch.setattr(crypto, "CHUNK", 1024)
    monkeypatch.setattr(crypto, "_SCRYPT", (10, 8, 1))


def sealed(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    crypto.encrypt(io.BytesIO(data), out, passphrase)
    return out.getvalue()


def opened(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    return b"".join(crypto.decrypt(io.BytesIO(data), passphrase))


@pytest.mark.parametrize("size", [0, 1, 1024, 5000])
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    encrypted = sealed(data)
    assert crypto.is_encrypted(encrypted) and (len(data) < 16 or data not in encrypted)  # short: by chance
    assert opened(encrypted) == data


def test_a_wrong_passphrase_is_named() -> None:
    with pytest.raises(crypto.DecryptionError, match="wrong passphrase"):
        opened(sealed(b"x" * 3000), "battery staple")


def _chunks(encrypted: bytes) -> tuple[bytes, list[bytes]]:
    header_size = len(crypto.MAGIC) + struct.calcsize(">BBB16s32s7s")
    header, rest, chunks = encrypted[:header_size], encrypted[header_size:], []
    while rest:
        (size,) = struct.unpack(">I", rest[:4])
        chunks.append(rest[: 4 + size])
        rest = rest[4 + size :]
    return header, chunks


def test_a_missing_last_chunk_is_cut_short() -> None:
    header, chunks = _chunks(sealed(os.urandom(3000)))
    assert len(chunks) == 3
    with pytest.raises(crypto.DecryptionError, match="cut short"):
        opened(header + b"".join(chunks[:2]))


def test_reordered_flipped_or_trailing_data_is_damage() -> None:
    header, chunks = _chunks(sealed(os.urandom(3000)))
    with pytest.raises(crypto.DecryptionError, match="damaged"):
        opened(header + chunks[1] + chunks[0] + chunks[2])
    flipped = bytearray(header + b"".join(chunks))
    flipped[len(header) + 100] ^= 1
    with pytest.raises(crypto.DecryptionError, match="damaged"):
        opened(bytes(flipped))
    with pytest.raises(crypto.DecryptionError, match="after its end"):
        opened(header + b"".join(chunks) + b"more")
    with pytest.raises(crypto.DecryptionError, match="cut short"):
        opened(header[:20])
