"""Release signing with Ed25519 (`cryptography`): key pairs, signature files, and their checks.

A signature file (<artifact>.sig) is JSON: the manifest text (hub/lamplighter/firmware/ota.py) and the hex
Ed25519 signature of exactly that text. Two kinds of manifest (docs/ota.md):

- full (recommended): binds version, board, kind, size and SHA-256;
- content: binds kind, size and SHA-256 only; the version and board are given at upload and
  asserted by the hub in its offers (downgrade and board checks then rest on the hub).

Devices verify the same signature with their own pure-Python verifier.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lamplighter.firmware import ota

PRIVATE_KEY_FILE = "firmware-signing.key"
PUBLIC_KEY_FILE = "firmware-signing.pub"
SIGNATURE_SUFFIX = ".sig"
CHUNK = 64 * 1024


class SignatureFileError(ValueError):
    """A signature file that cannot be read or does not fit its artifact."""


def keygen(folder: Path) -> tuple[Path, Path]:
    """Write a new key pair: the private key (PEM, mode 0600) and the public key (hex, for devices)."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    if private_path.exists():
        raise FileExistsError(f"{private_path} exists; keep it, or move it away first")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_text(public_key_hex(key.public_key()) + "\n")
    return private_path, public_path


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key as hex (what a device keeps in ota_key.pub)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a PEM private key written by keygen."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def sign_manifest(key: Ed25519PrivateKey, manifest: str) -> dict[str, str]:
    """The signature file's content for this manifest."""
    return {"manifest": manifest, "signature": key.sign(manifest.encode("utf-8")).hex()}


def sign_artifact(
    artifact: Path,
    key_path: Path,
    *,
    version: str | None = None,
    board: str | None = None,
    kind: str = ota.KIND_IMAGE,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Sign the artifact's manifest and write <artifact>.sig beside it; return its path.

    With version and board: a full manifest that binds them (recommended). With neither: a
    content manifest (kind, size, SHA-256 only)."""
    if (version is None) != (board is None):
        raise ValueError("give both the version and the board, or neither (content-only signature)")
    sha256, size = file_digest(artifact)
    if version is None:
        manifest = ota.build_content_manifest(size, sha256, kind, extra)
    else:
        manifest = ota.build_manifest(version, board, size, sha256, kind, extra)
    ota.parse_manifest(manifest)  # the fields a device will check
    target = artifact.with_name(artifact.name + SIGNATURE_SUFFIX)
    target.write_text(json.dumps(sign_manifest(load_private_key(key_path), manifest), indent=2) + "\n")
    return target


def read_signature_file(text: str) -> tuple[str, str, dict[str, Any]]:
    """(manifest text, signature hex, parsed manifest) from a signature file's content."""
    try:
        content = json.loads(text)
        manifest_text, signature = content["manifest"], content["signature"]
    except (ValueError, KeyError, TypeError) as error:
        raise SignatureFileError("not a signature file made by `lamplighter firmware sign`") from error
    if not isinstance(manifest_text, str) or not isinstance(signature, str) or len(signature) != 128:
        raise SignatureFileError("the signature file holds no manifest and 64-byte signature")
    try:
        manifest = ota.parse_manifest(manifest_text)
    except ota.UpdateError as error:
        raise SignatureFileError(f"the signed manifest is invalid: {error.detail}") from error
    return manifest_text, signature, manifest


def signature_valid(public_keys_hex: list[str], manifest_text: str, signature_hex: str) -> bool:
    """True when one of these public keys verifies the signature."""
    for key_hex in public_keys_hex:
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
            key.verify(bytes.fromhex(signature_hex), manifest_text.encode("utf-8"))
            return True
        except (ValueError, InvalidSignature):
            continue
    return False
