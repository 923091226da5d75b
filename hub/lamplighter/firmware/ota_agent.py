"""The device's OTA agent: what runs, confirming or reporting the last update, and the entry points.

After a reboot it confirms the new image once the hub has welcomed it, or reports the rollback
the bootloader made (docs/ota.md). An offer or a LAN push is handed to hub/lamplighter/firmware/ota_transfer.py,
imported then: a running device keeps only this small half in memory.
"""

from . import protocol


class OtaAgent:
    """One device's updates; device gives hal, config, log, hub and reboot()."""

    def __init__(self, device, factory_version):
        self.device = device
        self.factory_version = factory_version
        self.slots = device.hal.ota_slots()
        self.updater = None
        self.retry_delay = 0.5
        self.rolled_back = self.slots.take_rollback()
        self.last_result = None  # (status, reason) of the last update, for /status and tests
        if self.rolled_back is not None:
            device.log.warning(
                "firmware " + str(self.rolled_back.get("version")) + " did not come up: rolled back"
            )

    # ---- what runs --------------------------------------------------------------------------

    def running_manifest(self):
        """The manifest of the running image (None for the factory image)."""
        return self.slots.slot_manifest(self.slots.running_slot())

    def running_version(self):
        """The version this boot runs."""
        manifest = self.running_manifest()
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
        from . import ota_transfer

        return await ota_transfer.handle_push(self, request)
