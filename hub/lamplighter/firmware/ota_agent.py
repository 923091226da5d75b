"""The device's OTA agent: what runs, confirming or reporting the last update, and the entry points.

After a reboot it confirms the new image once the hub has welcomed it, or reports the rollback
the bootloader made (docs/ota.md). An offer or a LAN push is handed to hub/lamplighter/firmware/ota_transfer.py,
imported then: a running device keeps only this small half in memory.
"""

import binascii
import gc

from . import protocol
from .compat import const

# Imported for an update and dropped after one that ends without a reboot (release()).
_UPDATE_MODULES = ("ota_transfer", "ota", "ed25519")

_BLOCK_SIZE = const(4096)  # ota.BLOCK_SIZE (ota is imported only when an update comes)
_READ_SIZE = const(1024)
_BAD_MANIFEST = "bad_manifest"  # ota.REFUSED_BAD_MANIFEST


class OtaAgent:
    """One device's updates; device gives hal, config, log, hub and reboot()."""

    def __init__(self, device, factory_version):
        self.device = device
        self.factory_version = factory_version
        self.slots = device.hal.ota_slots()
        self.updater = None
        # An update's buffers, made at boot: mid-run a board's heap rarely has 4 KB in one piece
        # (MicroPython's unix port under the cap could not start an update without these).
        try:
            self.block_buffer = bytearray(_BLOCK_SIZE)
            self.read_buffer = bytearray(_READ_SIZE)
        except MemoryError:  # a heap already short at boot (TLS): they are made when an update comes
            self.block_buffer = self.read_buffer = None
        self.retry_delay = 0.5
        self.rolled_back = self.slots.take_rollback()
        self.last_result = None  # (status, reason) of the last update, for /status and tests
        if self.rolled_back is not None:
            device.log.warning(
                "firmware " + str(self.rolled_back.get("version")) + " did not come up: rolled back"
            )

    # ---- what runs --------------------------------------------------------------------------

    def running_version(self):
        """The version this boot runs (the factory's when the running image has no manifest)."""
        manifest = self.slots.slot_manifest(self.slots.running_slot())
        return manifest["version"] if manifest else self.factory_version

    def boot_slot(self):
        """The slot this boot runs."""
        return self.slots.running_slot()

    def boot_fails(self):
        """Simulator only: the running image is marked as one that never comes up."""
        return self.slots.boot_fails()

    # ---- after a reboot --------------------------------------------------------------------

    def on_welcome(self):
        """The hub answered our hello: a new image on trial is good; report what happened."""
        if self.slots.on_trial():
            confirmed = self.slots.mark_valid()
            self.device.log.info("firmware " + self.running_version() + " confirmed")
            self.result(confirmed.get("job"), protocol.OTA_CONFIRMED)
        if self.rolled_back is not None:
            from . import ota  # once, after a rollback

            record, self.rolled_back = self.rolled_back, None
            self.result(
                record.get("job"),
                protocol.OTA_ROLLED_BACK,
                ota.FAILED_BOOT,
                "firmware " + str(record.get("version")) + " did not come up",
            )

    def result(self, job, status, reason=None, detail=None):
        """An update ended: remember it, and tell the hub when it came as a job."""
        self.last_result = (status, reason)
        if job is not None:
            self.device.hub.send(
                protocol.build_ota_result(
                    job, status, reason, detail, self.running_version(), self.boot_slot()
                )
            )
        if status != protocol.OTA_CONFIRMED:
            self.release()

    def release(self):
        """An update is over without a reboot: drop its modules, so the heap is the steady state's again."""
        import sys

        self.updater = None
        if not hasattr(gc, "mem_free"):
            return  # no capped heap (CPython): the modules stay, as the hub may share them
        package_name = __name__.rsplit(".", 1)[0]  # "firmware" on a board, "lamplighter.firmware" in the hub
        package = sys.modules[package_name]
        for name in _UPDATE_MODULES:
            sys.modules.pop(package_name + "." + name, None)
            if name in package.__dict__:
                delattr(package, name)
        gc.collect()

    def progress(self, job, state, received, size):
        """How far the update is, for the hub."""
        if job is not None:
            self.device.hub.send(protocol.build_ota_progress(job, state, received, size))

    # ---- an update (hub/lamplighter/firmware/ota_transfer.py, imported on the first one) --------------------

    def handle_offer(self, message):
        """An ota.offer from the hub: check it, then download in the background."""
        from . import ota_transfer

        ota_transfer.handle_offer(self, message)

    async def handle_push(self, request):
        """The hub streams the image in the body; answers (status, body) once it is verified."""
        # Refused before the update's modules load: a board's heap need not make room for garbage.
        manifest = request.headers.get(protocol.OTA_HEADER_MANIFEST) or ""
        try:
            decoded = binascii.a2b_base64(manifest) if manifest else b""
        except ValueError:
            decoded = b""
        if not decoded:
            self.last_result = (protocol.OTA_FAILED, _BAD_MANIFEST)
            return 400, {"error": "no manifest, or not base64", "code": _BAD_MANIFEST}
        from . import ota_transfer

        status, body = await ota_transfer.handle_push(self, request)
        if status != 200:
            self.release()
        return status, body
