"""Ed25519 verification: RFC 8032 test vectors, tampering, and signatures made by `cryptography`."""

import binascii
import unittest

from .. import ed25519

try:  # CPython only: cross-check against a well-kept implementation
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:  # pragma: no cover - MicroPython
    Ed25519PrivateKey = None

# RFC 8032, section 7.1: TEST 1, 2, 3 and SHA(abc) (public key, message, signature).
RFC8032_VECTORS = (
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
        "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
)


def unhex(text):
    return binascii.unhexlify(text)


class Rfc8032Test(unittest.TestCase):
    def test_vectors_verify(self):
        for public, message, signature in RFC8032_VECTORS:
            self.assertTrue(ed25519.verify(unhex(public), unhex(message), unhex(signature)))

    def test_a_changed_message_or_signature_fails(self):
        for public, message, signature in RFC8032_VECTORS:
            self.assertFalse(ed25519.verify(unhex(public), unhex(message) + b"x", unhex(signature)))
            bad = bytearray(unhex(signature))
            bad[5] ^= 1
            self.assertFalse(ed25519.verify(unhex(public), unhex(message), bytes(bad)))

    def test_another_key_fails(self):
        public, message, signature = RFC8032_VECTORS[1]
        other = RFC8032_VECTORS[2][0]
        self.assertFalse(ed25519.verify(unhex(other), unhex(message), unhex(signature)))

    def test_malformed_inputs_fail_without_raising(self):
        public, message, signature = RFC8032_VECTORS[0]
        self.assertFalse(ed25519.verify(unhex(public)[:31], b"", unhex(signature)))
        self.assertFalse(ed25519.verify(unhex(public), b"", unhex(signature)[:63]))
        # S >= L is refused (a malleable twin of a valid signature).
        s = int.from_bytes(unhex(signature)[32:], "little") + ed25519.L
        twin = unhex(signature)[:32] + s.to_bytes(32, "little")
        self.assertFalse(ed25519.verify(unhex(public), b"", twin))
        # A point that is not on the curve.
        self.assertFalse(ed25519.verify(b"\xff" * 32, b"", unhex(signature)))


class Sha512Test(unittest.TestCase):
    def test_known_digests(self):
        self.assertEqual(
            binascii.hexlify(ed25519.sha512_pure(b"abc")).decode(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        )
        self.assertEqual(
            binascii.hexlify(ed25519.sha512_pure(b"")).decode()[:32], "cf83e1357eefb8bdf1542850d66d8007"
        )

    def test_padding_edges_match_the_runtime(self):
        if ed25519._sha512 is None:  # pragma: no cover - MicroPython
            return
        for length in (55, 111, 112, 127, 128, 129, 240, 1000):
            data = bytes(range(256)) * 4
            data = data[:length]
            self.assertEqual(ed25519.sha512_pure(data), ed25519._sha512(data).digest())


class CryptographyTest(unittest.TestCase):
    def test_signatures_made_by_cryptography_verify(self):
        if Ed25519PrivateKey is None:  # pragma: no cover - MicroPython
            return
        for index in range(20):
            key = Ed25519PrivateKey.generate()
            public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            message = ('{"version":"1.' + str(index) + '.0"}').encode() * (index + 1)
            signature = key.sign(message)
            self.assertTrue(ed25519.verify(public, message, signature))
            self.assertFalse(ed25519.verify(public, message[:-1], signature))
