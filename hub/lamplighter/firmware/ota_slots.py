"""OTA slots: where an update is written, which slot boots, and what happened at the last boot.

SlotRecords keeps, in files under <flash>/ota/, each slot's manifest and the pending update
(written when the boot slot is switched), so after a reboot the firmware knows whether it runs
a new image on trial, or whether the bootloader went back to the old one (a rollback).
The images themselves: the ESP32's flash partitions (hub/lamplighter/firmware/hal/esp32_ota.py), or the
simulator's two files (FileSlots in hub/lamplighter/firmware/hal/host.py).
"""

import json

from . import storage
from .compat import const, join_path, os, path_exists

_OTA_FOLDER = const("ota")
_PENDING_FILE = const("pending.json")
_ROLLBACK_FILE = const("rolled_back.json")


class SlotRecords:
    """Manifests of the slots and the pending update, in files; subclasses hold the images."""

    def __init__(self, flash_root):
        self.folder = join_path(flash_root, _OTA_FOLDER)
        if not path_exists(self.folder):
            os.mkdir(self.folder)

    def _path(self, name):
        return join_path(self.folder, name)

    # what subclasses provide: running_slot, open_slot, write_block, discard_slot, _switch, _confirm

    def next_slot(self):
        """The slot an update goes to: the one not running."""
        return 1 - self.running_slot()

    def capacity(self):
        """Largest image a slot holds, or None when only the free space limits it."""
        return None

    def boot_fails(self):
        """True when the running image must not start (only the simulator's slots say so)."""
        return False

    def slot_manifest(self, slot):
        """The manifest (dict) of the image in this slot, or None (factory image, or being written)."""
        try:
            text = storage.read_text(self._path("slot" + str(slot) + ".json"))
            return json.loads(text) if text else None
        except (OSError, ValueError):
            return None

    def close_slot(self, slot, manifest_text):
        """The image in slot is complete and verified: keep its manifest."""
        storage.write_text(self._path("slot" + str(slot) + ".json"), manifest_text)

    def forget_manifest(self, slot):
        """The slot's image is about to be overwritten."""
        path = self._path("slot" + str(slot) + ".json")
        if path_exists(path):
            os.remove(path)

    def set_boot(self, slot, job=None):
        """Boot slot next, on trial; remember the update so the next boot can confirm or report it."""
        manifest = self.slot_manifest(slot) or {}
        storage.write_json(
            self._path(_PENDING_FILE),
            {"job": job, "slot": slot, "previous": self.running_slot(), "version": manifest.get("version")},
        )
        self._switch(slot)

    def pending(self):
        """The update waiting for confirmation, or None."""
        try:
            return storage.read_json(self._path(_PENDING_FILE))
        except storage.StorageError:
            return None

    def on_trial(self):
        """True while running a new image that has not yet been confirmed."""
        pending = self.pending()
        return pending is not None and pending.get("slot") == self.running_slot()

    def check_boot(self):
        """At start: if the bootloader went back to the old slot, turn the pending update into a rollback."""
        pending = self.pending()
        if pending is not None and pending.get("slot") != self.running_slot():
            storage.write_json(self._path(_ROLLBACK_FILE), pending)
            os.remove(self._path(_PENDING_FILE))

    def mark_valid(self):
        """The new image reached the hub: keep it. Returns the confirmed update, or None."""
        pending = self.pending()
        if pending is None or pending.get("slot") != self.running_slot():
            return None
        self._confirm()
        os.remove(self._path(_PENDING_FILE))
        return pending

    def take_rollback(self):
        """The update the bootloader rolled back (to report once), or None."""
        path = self._path(_ROLLBACK_FILE)
        try:
            record = storage.read_json(path)
        except storage.StorageError:
            record = None
        if path_exists(path):
            os.remove(path)
        return record
