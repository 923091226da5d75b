"""ESP32 OTA slots: the two app partitions, through esp32.Partition (MicroPython).

The ESP-IDF bootloader does the rollback itself: a partition chosen with set_boot() boots on
trial, and unless the app calls mark_app_valid_cancel_rollback() the next reset returns to
the previous partition. Manifests and the pending update stay in files (SlotRecords).
"""

import esp32  # type: ignore[import-not-found]

from ..ota_slots import SlotRecords


class PartitionSlots(SlotRecords):
    """ota_0 / ota_1 as slots 0 / 1; blocks of 4096 bytes are erased and written in place."""

    def __init__(self, flash_root):
        super().__init__(flash_root)
        self._running_partition = esp32.Partition(esp32.Partition.RUNNING)
        self._next = self._running_partition.get_next_update()
        self.check_boot()

    @staticmethod
    def _slot_of(partition):
        label = partition.info()[4]
        return 1 if label.endswith("1") else 0

    def running_slot(self):
        """The slot this boot runs."""
        return self._slot_of(self._running_partition)

    def capacity(self):
        """The size of the update partition."""
        return self._next.info()[3]

    def open_slot(self, slot, size):
        """Nothing to open: blocks are erased as they are written."""
        self.forget_manifest(slot)

    def write_block(self, slot, index, block):
        """Erase and write one 4096-byte block (a short last block is padded)."""
        if len(block) < 4096:
            block = block + b"\xff" * (4096 - len(block))
        self._next.writeblocks(index, block)

    def discard_slot(self, slot):
        """A partial image is harmless: the boot partition never changed."""

    def _switch(self, slot):
        self._next.set_boot()

    def _confirm(self):
        esp32.Partition.mark_app_valid_cancel_rollback()
