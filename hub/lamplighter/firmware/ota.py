"""OTA update logic shared by device and hub: the signed manifest, the checks, and the updater.

Plain synchronous code (no asyncio), so the same tests run under MicroPython. The async glue
(download, push route, reporting) is hub/lamplighter/firmware/ota_agent.py and hub/lamplighter/firmware/ota_transfer.py; the
slots are hub/lamplighter/firmware/ota_slots.py and hub/lamplighter/firmware/hal/esp32_ota.py. docs/ota.md explains the flow.
"""

import binascii
import hashlib
import json

from . import ed25519

MANIFEST_FORMAT = 1
MAX_MANIFEST_BYTES = 1024
KIND_IMAGE = "image"  # a full image for the device's OTA partition
KIND_BUNDLE = "bundle"  # an application bundle (the firmware's Python files)
KINDS = (KIND_IMAGE, KIND_BUNDLE)
BLOCK_SIZE = 4096  # the flash erase block: the updater writes whole blocks
# Set by check_offer on a content manifest: its version and board came from the hub's offer.
ASSERTED = "asserted"

# Why a device refuses or abandons an update (ota.result reason, shown in the dashboard).
REFUSED_BAD_MANIFEST = "bad_manifest"
REFUSED_WRONG_BOARD = "wrong_board"
REFUSED_DOWNGRADE = "downgrade"
REFUSED_SAME_VERSION = "same_version"
REFUSED_TOO_LARGE = "too_large"
REFUSED_NO_KEY = "no_key"
REFUSED_UNSIGNED = "unsigned"
REFUSED_BAD_SIGNATURE = "bad_signature"
REFUSED_BAD_HASH = "bad_hash"
REFUSED_TRUNCATED = "truncated"
REFUSED_BUSY = "busy"
FAILED_DOWNLOAD = "download_failed"
FAILED_WRITE = "write_failed"
FAILED_BOOT = "boot_failed"  # the new image did not reach the hub: rolled back

# Device-side files on flash.
PUBLIC_KEY_FILE = "ota_key.pub"  # hex of the 32-byte Ed25519 public key
ALLOW_UNSIGNED_FILE = "ota_allow_unsigned"  # development only: accept unsigned manifests


class UpdateError(Exception):
    """An update refused or abandoned; code is one of the REFUSED_/FAILED_ constants."""

    def __init__(self, code, detail=""):
        super().__init__(code + (": " + detail if detail else ""))
        self.code = code
        self.detail = detail


# ---- manifest ------------------------------------------------------------------------------


def _canonical(manifest):
    # Sorted keys and no spaces: the same fields always give the same bytes (built by hand:
    # MicroPython's json.dumps has neither sort_keys nor separators).
    keys = sorted(manifest)
    return "{" + ",".join(json.dumps(key) + ":" + json.dumps(manifest[key]) for key in keys) + "}"


def build_manifest(version, board, size, sha256_hex, kind=KIND_IMAGE, extra=None):
    """The manifest text a release is signed with: it binds version, board, kind, size and hash.

    version and board both None give a content manifest (format, kind, size and hash only):
    the device then takes the version and board the hub asserts in its offer.
    """
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "size": size,
        "sha256": sha256_hex,
    }
    if version is not None or board is not None:
        manifest["board"] = board
        manifest["version"] = version
    if extra:
        for key in extra:
            manifest[key] = extra[key]
    return _canonical(manifest)


def build_content_manifest(size, sha256_hex, kind=KIND_IMAGE, extra=None):
    """A content manifest: binds format, kind, size and SHA-256, not the version nor the board."""
    return build_manifest(None, None, size, sha256_hex, kind, extra)


def is_content_manifest(manifest):
    """True when a parsed manifest binds no version nor board (they come from the hub's offer)."""
    return "version" not in manifest and "board" not in manifest


def _name_ok(value):
    return isinstance(value, str) and 0 < len(value) <= 64


def parse_manifest(text):
    """Decode and check a manifest's fields; UpdateError(bad_manifest) when it is not one."""
    if not isinstance(text, str) or not text or len(text) > MAX_MANIFEST_BYTES:
        raise UpdateError(REFUSED_BAD_MANIFEST, "the manifest must be 1 to 1024 characters")
    try:
        manifest = json.loads(text)
    except ValueError:
        raise UpdateError(REFUSED_BAD_MANIFEST, "the manifest is not JSON")
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise UpdateError(REFUSED_BAD_MANIFEST, "unknown manifest format")
    if manifest.get("kind") not in KINDS:
        raise UpdateError(REFUSED_BAD_MANIFEST, "kind must be image or bundle")
    # A full manifest binds board and version; a content manifest has neither (never one alone).
    if not is_content_manifest(manifest):
        for key in ("board", "version"):
            if not _name_ok(manifest.get(key)):
                raise UpdateError(REFUSED_BAD_MANIFEST, key + " must be a string of 1 to 64 characters")
    size = manifest.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise UpdateError(REFUSED_BAD_MANIFEST, "size must be a positive integer")
    digest = manifest.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise UpdateError(REFUSED_BAD_MANIFEST, "sha256 must be 64 lowercase hex digits")
    return manifest


def version_key(version):
    """A sortable key for versions like 1.2.10 or 1.3.0-rc1 (numbers compare as numbers)."""
    parts = []
    for part in version.replace("-", ".").replace("+", ".").split("."):
        parts.append((1, int(part), "") if part.isdigit() else (0, 0, part))
    return parts


def compare_versions(a, b):
    """-1, 0 or 1 as version a is older than, equal to or newer than b."""
    key_a, key_b = version_key(a), version_key(b)
    if key_a == key_b:
        return 0
    return -1 if key_a < key_b else 1


def signature_ok(public_key, manifest_text, signature_hex):
    """True when signature_hex is a valid Ed25519 signature of the manifest text."""
    try:
        signature = binascii.unhexlify(signature_hex)
    except (ValueError, TypeError):
        return False
    return ed25519.verify(public_key, manifest_text.encode("utf-8"), signature)


def check_offer(
    manifest_text,
    signature_hex,
    board,
    running_version,
    public_key,
    allow_unsigned,
    capacity,
    force=False,
    offered_version=None,
    offered_board=None,
):
    """Every check that can be made before a byte is written; the parsed manifest, or UpdateError.

    A content manifest (no version, no board) is taken only with a valid signature; its version
    and board are then the ones the hub asserts in the offer (offered_version, offered_board),
    and the board and downgrade checks apply to those. A full manifest binds its own: asserted
    values, when given, must be the same.
    """
    manifest = parse_manifest(manifest_text)
    if signature_hex:
        if public_key is None:
            raise UpdateError(REFUSED_NO_KEY, "this device holds no OTA public key")
        if not signature_ok(public_key, manifest_text, signature_hex):
            raise UpdateError(REFUSED_BAD_SIGNATURE, "the manifest signature does not verify")
    elif public_key is not None or not allow_unsigned:
        raise UpdateError(REFUSED_UNSIGNED, "unsigned firmware is refused")
    if is_content_manifest(manifest):
        if not signature_hex:
            raise UpdateError(REFUSED_UNSIGNED, "a manifest without version and board must be signed")
        if not _name_ok(offered_version) or not _name_ok(offered_board):
            raise UpdateError(REFUSED_BAD_MANIFEST, "the offer does not say which version and board")
        manifest["version"] = offered_version
        manifest["board"] = offered_board
        manifest[ASSERTED] = True
    else:
        for key, offered in (("version", offered_version), ("board", offered_board)):
            if offered is not None and offered != manifest[key]:
                raise UpdateError(REFUSED_BAD_MANIFEST, "the offer's " + key + " differs from the signed one")
    if manifest["board"] != board:
        raise UpdateError(REFUSED_WRONG_BOARD, "built for " + manifest["board"] + ", this is " + board)
    order = compare_versions(manifest["version"], running_version)
    if order < 0 and not force:
        raise UpdateError(REFUSED_DOWNGRADE, manifest["version"] + " is older than " + running_version)
    if order == 0 and not force:
        raise UpdateError(REFUSED_SAME_VERSION, manifest["version"] + " is already running")
    if capacity is not None and manifest["size"] > capacity:
        raise UpdateError(REFUSED_TOO_LARGE, str(manifest["size"]) + " bytes do not fit in " + str(capacity))
    return manifest


# ---- the updater: stream into the inactive slot, check, switch ------------------------------

STATE_IDLE = "idle"
STATE_DOWNLOADING = "downloading"
STATE_VERIFYING = "verifying"
STATE_REBOOTING = "rebooting"


class Updater:
    """One update: blocks go to the inactive slot, the hash is computed as they pass.

    begin() -> write()... -> finish() switches the boot slot only when size and SHA-256 match
    the (already signature-checked) manifest; abort() leaves the running image untouched.
    """

    def __init__(self, slots, manifest, manifest_text, job=None, buffer=None):
        self.slots = slots
        self.manifest = manifest
        self.manifest_text = manifest_text
        # What the slot keeps: the signed text, or (content manifest) its fields with the
        # version and board the hub asserted, so the running version is known after the reboot.
        self.record = _canonical(manifest) if manifest.get(ASSERTED) else manifest_text
        self.job = job
        self.size = manifest["size"]
        self.received = 0
        self.state = STATE_IDLE
        self.slot = None
        self._hash = hashlib.sha256()
        # One block's buffer, filled in place: no new 4 KB buffers per block on a board's heap
        # (slicing and copying them ran MicroPython's unix port out of heap under the cap).
        self._buffer = buffer  # BLOCK_SIZE bytes: best made at boot (OtaAgent), while the heap is whole
        self._fill = 0
        self._block = 0

    def begin(self):
        """Pick and open the inactive slot."""
        self.slot = self.slots.next_slot()
        self.slots.open_slot(self.slot, self.size)
        if self._buffer is None:
            self._buffer = bytearray(BLOCK_SIZE)
        self.state = STATE_DOWNLOADING

    def write(self, data):
        """Take the next bytes of the image (any length); UpdateError when more than the size arrives."""
        if self.received + len(data) > self.size:
            raise UpdateError(REFUSED_BAD_HASH, "more bytes than the manifest's size")
        self._hash.update(data)
        self.received += len(data)
        view = memoryview(data)
        while len(view):
            take = min(BLOCK_SIZE - self._fill, len(view))
            self._buffer[self._fill : self._fill + take] = view[:take]
            self._fill += take
            view = view[take:]
            if self._fill == BLOCK_SIZE:
                self._flush(self._buffer)
                self._fill = 0

    def _flush(self, block):
        try:
            self.slots.write_block(self.slot, self._block, block)
        except OSError as error:
            raise UpdateError(FAILED_WRITE, str(error))
        self._block += 1

    def finish(self):
        """Check size and hash, record the slot's manifest and make it the next boot."""
        self.state = STATE_VERIFYING
        if self.received < self.size:
            raise UpdateError(REFUSED_TRUNCATED, str(self.received) + " of " + str(self.size) + " bytes")
        if self._fill:
            self._flush(memoryview(self._buffer)[: self._fill])
            self._fill = 0
        digest = binascii.hexlify(self._hash.digest()).decode("ascii")
        if digest != self.manifest["sha256"]:
            raise UpdateError(REFUSED_BAD_HASH, "SHA-256 " + digest[:16] + "... does not match the manifest")
        try:
            self.slots.close_slot(self.slot, self.record)
            self.slots.set_boot(self.slot, self.job)
        except OSError as error:
            raise UpdateError(FAILED_WRITE, str(error))
        self.state = STATE_REBOOTING

    def abort(self):
        """Forget the partial image (the boot slot never changed)."""
        self.state = STATE_IDLE
        if self.slot is not None:
            try:
                self.slots.discard_slot(self.slot)
            except OSError:
                pass
