"""OTA logic without sockets: manifests, every refusal, the updater, and the slots' boot rules."""

import binascii
import unittest

from .. import ota
from ..compat import join_path, os
from ..hal.host import SIMULATE_BOOT_FAILURE, FileSlots
from . import ota_fixtures as fx
from .support import make_folder

KEY = binascii.unhexlify(fx.TEST_PUBLIC_KEY_HEX)


def check(
    name,
    board="host",
    running="0.1.0",
    key=KEY,
    allow_unsigned=False,
    capacity=None,
    force=False,
    signed=True,
    version=None,
    offered_board=None,
):
    manifest, signature = fx.SIGNED[name]
    return ota.check_offer(
        manifest,
        signature if signed else None,
        board,
        running,
        key,
        allow_unsigned,
        capacity,
        force,
        version,
        offered_board,
    )


def remove_tree(path):
    for name in os.listdir(path):
        full = join_path(path, name)
        try:
            os.remove(full)
        except OSError:
            remove_tree(full)
    os.rmdir(path)


class ManifestTest(unittest.TestCase):
    def test_build_and_parse(self):
        text = ota.build_manifest("1.2.0", "esp32", 10, "ab" * 32, ota.KIND_BUNDLE)
        manifest = ota.parse_manifest(text)
        self.assertEqual(manifest["version"], "1.2.0")
        self.assertEqual(manifest["kind"], ota.KIND_BUNDLE)
        self.assertEqual(text, ota.build_manifest("1.2.0", "esp32", 10, "ab" * 32, ota.KIND_BUNDLE))

    def test_bad_manifests(self):
        for text in (
            "",
            "[]",
            "{",
            '{"format": 2}',
            ota.build_manifest("1", "esp32", 0, "ab" * 32),
            ota.build_manifest("1", "esp32", 5, "AB" * 32),
            ota.build_manifest("", "esp32", 5, "ab" * 32),
            ota.build_manifest("1", "esp32", 5, "ab" * 32, "zip"),
        ):
            with self.assertRaises(ota.UpdateError) as caught:
                ota.parse_manifest(text)
            self.assertEqual(caught.exception.code, ota.REFUSED_BAD_MANIFEST)

    def test_content_manifest(self):
        text = ota.build_content_manifest(10, "ab" * 32)
        self.assertEqual(text, '{"format":1,"kind":"image","sha256":"' + "ab" * 32 + '","size":10}')
        manifest = ota.parse_manifest(text)
        self.assertTrue(ota.is_content_manifest(manifest))
        self.assertFalse(ota.is_content_manifest(ota.parse_manifest(fx.SIGNED["good"][0])))
        # Never one of version and board without the other.
        for half in ('{"board":"esp32",', '{"version":"1.0",'):
            with self.assertRaises(ota.UpdateError) as caught:
                ota.parse_manifest(half + text[1:])
            self.assertEqual(caught.exception.code, ota.REFUSED_BAD_MANIFEST)

    def test_version_order(self):
        self.assertEqual(ota.compare_versions("0.10.0", "0.9.9"), 1)
        self.assertEqual(ota.compare_versions("1.0.0", "1.0.0"), 0)
        self.assertEqual(ota.compare_versions("1.0.0-rc1", "1.0.0"), 1)
        self.assertEqual(ota.compare_versions("0.1.0", "0.2.0"), -1)


class CheckOfferTest(unittest.TestCase):
    def refused(self, code, *args, **kwargs):
        with self.assertRaises(ota.UpdateError) as caught:
            check(*args, **kwargs)
        self.assertEqual(caught.exception.code, code)

    def test_a_good_offer_passes(self):
        self.assertEqual(check("good")["version"], "0.2.0")

    def test_wrong_board(self):
        self.refused(ota.REFUSED_WRONG_BOARD, "esp32")

    def test_downgrade_unless_forced(self):
        self.refused(ota.REFUSED_DOWNGRADE, "older")
        self.assertEqual(check("older", force=True)["version"], "0.0.9")
        self.refused(ota.REFUSED_SAME_VERSION, "same")

    def test_bad_signature(self):
        manifest, signature = fx.SIGNED["good"]
        tampered = manifest.replace("0.2.0", "0.2.1")
        with self.assertRaises(ota.UpdateError) as caught:
            ota.check_offer(tampered, signature, "host", "0.1.0", KEY, False, None)
        self.assertEqual(caught.exception.code, ota.REFUSED_BAD_SIGNATURE)
        with self.assertRaises(ota.UpdateError) as caught:
            ota.check_offer(manifest, "zz" * 64, "host", "0.1.0", KEY, False, None)
        self.assertEqual(caught.exception.code, ota.REFUSED_BAD_SIGNATURE)

    def test_unsigned_needs_no_key_and_the_flag(self):
        self.refused(ota.REFUSED_UNSIGNED, "good", signed=False)
        self.refused(ota.REFUSED_UNSIGNED, "good", signed=False, allow_unsigned=True)  # a key is held
        self.assertEqual(check("good", signed=False, key=None, allow_unsigned=True)["size"], fx.IMAGE_SIZE)
        self.refused(ota.REFUSED_NO_KEY, "good", key=None)

    def test_too_large(self):
        self.refused(ota.REFUSED_TOO_LARGE, "good", capacity=fx.IMAGE_SIZE - 1)


class ContentSignatureTest(unittest.TestCase):
    """A content-only signature: version and board come from the offer, the checks still apply."""

    def refused(self, code, *args, **kwargs):
        with self.assertRaises(ota.UpdateError) as caught:
            check(*args, **kwargs)
        self.assertEqual(caught.exception.code, code)

    def test_accepted_with_the_asserted_version_and_board(self):
        manifest = check("content", version="0.2.0", offered_board="host")
        self.assertEqual(manifest["version"], "0.2.0")
        self.assertEqual(manifest["board"], "host")
        self.assertTrue(manifest[ota.ASSERTED])
        self.assertEqual(manifest["sha256"], fx.IMAGE_SHA256)

    def test_wrong_board_and_downgrade_use_the_asserted_fields(self):
        self.refused(ota.REFUSED_WRONG_BOARD, "content", version="0.2.0", offered_board="esp32")
        self.refused(ota.REFUSED_DOWNGRADE, "content", version="0.0.9", offered_board="host")
        self.refused(ota.REFUSED_SAME_VERSION, "content", version="0.1.0", offered_board="host")
        self.assertEqual(
            check("content", version="0.0.9", offered_board="host", force=True)["version"], "0.0.9"
        )

    def test_only_with_a_valid_signature(self):
        self.refused(ota.REFUSED_UNSIGNED, "content", signed=False, version="0.2.0", offered_board="host")
        self.refused(
            ota.REFUSED_UNSIGNED,
            "content",
            signed=False,
            key=None,
            allow_unsigned=True,
            version="0.2.0",
            offered_board="host",
        )
        self.refused(ota.REFUSED_NO_KEY, "content", key=None, version="0.2.0", offered_board="host")
        manifest, signature = fx.SIGNED["content"]
        tampered = manifest.replace('"size":10000', '"size":10001')
        with self.assertRaises(ota.UpdateError) as caught:
            ota.check_offer(tampered, signature, "host", "0.1.0", KEY, False, None, False, "0.2.0", "host")
        self.assertEqual(caught.exception.code, ota.REFUSED_BAD_SIGNATURE)

    def test_the_offer_must_assert_version_and_board(self):
        self.refused(ota.REFUSED_BAD_MANIFEST, "content")
        self.refused(ota.REFUSED_BAD_MANIFEST, "content", version="0.2.0")
        self.refused(ota.REFUSED_BAD_MANIFEST, "content", offered_board="host")
        self.refused(ota.REFUSED_BAD_MANIFEST, "content", version="", offered_board="host")

    def test_a_full_manifest_keeps_its_own_version_and_board(self):
        self.assertEqual(check("good", version="0.2.0", offered_board="host")["version"], "0.2.0")
        self.assertNotIn(ota.ASSERTED, check("good"))
        # An assertion cannot override what the key signed.
        self.refused(ota.REFUSED_BAD_MANIFEST, "older", version="0.3.0", offered_board="host")
        self.refused(ota.REFUSED_BAD_MANIFEST, "esp32", version="0.2.0", offered_board="host")


class SlotsTestCase(unittest.TestCase):
    def setUp(self):
        self.flash = make_folder()

    def tearDown(self):
        remove_tree(self.flash)

    def install(self, name="good", data=None, job=7):
        slots = FileSlots(self.flash)
        manifest_text = fx.SIGNED[name][0]
        updater = ota.Updater(slots, ota.parse_manifest(manifest_text), manifest_text, job)
        updater.begin()
        data = fx.image() if data is None else data
        for start in range(0, len(data), 1000):  # odd chunk sizes: blocks are assembled
            updater.write(data[start : start + 1000])
        updater.finish()
        return slots, updater


class UpdaterTest(SlotsTestCase):
    def test_writes_the_inactive_slot_and_switches_on_trial(self):
        slots, updater = self.install()
        self.assertEqual(updater.slot, 1)
        self.assertEqual(slots.read_slot(1), fx.image())
        self.assertEqual(slots.slot_manifest(1)["version"], "0.2.0")
        self.assertEqual(slots.running_slot(), 0)  # until the reboot
        rebooted = FileSlots(self.flash)
        self.assertEqual(rebooted.running_slot(), 1)
        self.assertTrue(rebooted.on_trial())
        self.assertEqual(rebooted.mark_valid()["job"], 7)
        self.assertFalse(rebooted.on_trial())
        self.assertEqual(FileSlots(self.flash).running_slot(), 1)  # stays after confirmation

    def test_bad_hash_keeps_the_boot_slot(self):
        slots = FileSlots(self.flash)
        manifest_text = fx.SIGNED["bad_hash"][0]
        updater = ota.Updater(slots, ota.parse_manifest(manifest_text), manifest_text)
        updater.begin()
        updater.write(fx.image())
        with self.assertRaises(ota.UpdateError) as caught:
            updater.finish()
        self.assertEqual(caught.exception.code, ota.REFUSED_BAD_HASH)
        updater.abort()
        self.assertEqual(FileSlots(self.flash).running_slot(), 0)

    def test_truncated_and_overlong(self):
        slots = FileSlots(self.flash)
        manifest_text = fx.SIGNED["good"][0]
        updater = ota.Updater(slots, ota.parse_manifest(manifest_text), manifest_text)
        updater.begin()
        updater.write(fx.image()[:5000])
        with self.assertRaises(ota.UpdateError) as caught:
            updater.finish()
        self.assertEqual(caught.exception.code, ota.REFUSED_TRUNCATED)
        updater = ota.Updater(slots, ota.parse_manifest(manifest_text), manifest_text)
        updater.begin()
        with self.assertRaises(ota.UpdateError):
            updater.write(fx.image() + b"x")

    def test_power_lost_mid_write_boots_the_old_image(self):
        slots = FileSlots(self.flash)
        manifest_text = fx.SIGNED["good"][0]
        updater = ota.Updater(slots, ota.parse_manifest(manifest_text), manifest_text)
        updater.begin()
        updater.write(fx.image()[:8192])  # two blocks on flash, then the power goes
        rebooted = FileSlots(self.flash)
        self.assertEqual(rebooted.running_slot(), 0)
        self.assertIsNone(rebooted.slot_manifest(1))
        self.assertIsNone(rebooted.pending())


class ContentUpdaterTest(SlotsTestCase):
    def updater(self, name, job=7):
        slots = FileSlots(self.flash)
        manifest_text, signature = fx.SIGNED[name]
        manifest = ota.check_offer(
            manifest_text, signature, "host", "0.1.0", KEY, False, None, False, "0.2.0", "host"
        )
        updater = ota.Updater(slots, manifest, manifest_text, job)
        updater.begin()
        updater.write(fx.image())
        return slots, updater

    def test_the_slot_keeps_the_asserted_version(self):
        slots, updater = self.updater("content")
        updater.finish()
        record = slots.slot_manifest(updater.slot)
        self.assertEqual((record["version"], record["board"]), ("0.2.0", "host"))
        self.assertEqual(record["sha256"], fx.IMAGE_SHA256)
        self.assertTrue(record[ota.ASSERTED])
        self.assertEqual(FileSlots(self.flash).pending()["version"], "0.2.0")

    def test_a_content_signature_over_other_bytes_is_refused(self):
        slots, updater = self.updater("content_other")
        with self.assertRaises(ota.UpdateError) as caught:
            updater.finish()
        self.assertEqual(caught.exception.code, ota.REFUSED_BAD_HASH)
        updater.abort()
        self.assertEqual(FileSlots(self.flash).running_slot(), 0)
        self.assertIsNone(FileSlots(self.flash).pending())


class RollbackTest(SlotsTestCase):
    def test_an_unconfirmed_trial_returns_to_the_old_slot(self):
        self.install("fails_boot", job=9)
        trial = FileSlots(self.flash)
        self.assertEqual(trial.running_slot(), 1)
        self.assertTrue(trial.slot_manifest(1)[SIMULATE_BOOT_FAILURE])
        # No mark_valid: the image never reached the hub. Next boot:
        after = FileSlots(self.flash)
        self.assertEqual(after.running_slot(), 0)
        record = after.take_rollback()
        self.assertEqual(record["job"], 9)
        self.assertEqual(record["version"], "0.3.0")
        self.assertIsNone(after.take_rollback())  # reported once
        self.assertEqual(FileSlots(self.flash).running_slot(), 0)

    def test_second_update_uses_the_other_slot(self):
        self.install()
        FileSlots(self.flash).mark_valid()
        slots = FileSlots(self.flash)
        self.assertEqual(slots.next_slot(), 0)
