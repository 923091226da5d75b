"""Tests only: a fixed OTA test key, a test image and manifests signed with it (MicroPython can load these)."""

# The private key is SHA-256 of this text (hub tests sign with it through `cryptography`).
TEST_SIGNING_SEED_TEXT = "lamplighter test signing key - tests only"
TEST_PUBLIC_KEY_HEX = "54dfd1c84e1ddad318d3cf914e90e634b6bc6ed5d3a29b9d2549acbc04e66855"
IMAGE_SIZE = 10000
IMAGE_SHA256 = "3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34"


def image(size=IMAGE_SIZE):
    """The test image: bytes 0..255 repeated."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


# name -> (manifest text, signature hex)
SIGNED = {
    "good": (
        '{"board":"host","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10000,"version":"0.2.0"}',
        "e265cf6ff7f503c53b67e5405bce683638298900e2656abfa7ff70d00013c335"
        "14dccb354cba04a012acc9ded19f726d2a883d723a72d832710711f5b3c8f207",
    ),
    "esp32": (
        '{"board":"esp32","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10000,"version":"0.2.0"}',
        "3ae6c860f635cd6abeaac3f713176102a52483c91b14841a272901e403b108b9"
        "2521cbd24cfc8ebf0dfdd6009472b247766230b22f0488b022e8c81e68673e07",
    ),
    "older": (
        '{"board":"host","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10000,"version":"0.0.9"}',
        "ea7582806f7953987f97f5150f7267c779d22592c800643f607129cd88e28f66"
        "b4896ae99bd2dc3d687ce6d7e1465435cf5c599a7bef7d6360856faeedad2606",
    ),
    "same": (
        '{"board":"host","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10000,"version":"0.1.0"}',
        "c4e1e1715c1ce1b17504bfdf3499c8c932d99a84b71494600f3fec94e5cb0d86"
        "65c827e03ddf137d45eee4563388f6ff43a598e7f3e8bf9253ac2b23b95af207",
    ),
    "bad_hash": (
        '{"board":"host","format":1,"kind":"image","sha256":"0000000000000000000000000000000000000000000000000000000000000000","size":10000,"version":"0.2.0"}',
        "b858f27379945652d6d0b6f076eb5175adffe2b79e02c6ec7686bd4a7b744c02"
        "a55a4c8172330f08d14d9fa5903f26ff9a11f3ce6700c66af44765db492fc906",
    ),
    "longer": (
        '{"board":"host","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10100,"version":"0.2.0"}',
        "22a4f269240550f8734d6caf31120449534e5fd59596ced13f6a64d8f4e819f3"
        "219c9d63288873da454e17ffd9bb524c23b203f5bb90be77fd487e5631f43709",
    ),
    "fails_boot": (
        '{"board":"host","format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","simulate_boot_failure":true,"size":10000,"version":"0.3.0"}',
        "8b69a8ad04757b03ea698eece37291f6621ed02637425a209d4ba06586e4808d"
        "b9d5c5f6d9a1b433c3a06ea89cb2a3a9f3b1e543af5d3bdd3e70a0bada73c500",
    ),
    # Content-only manifests (no version, no board): the offer asserts them.
    "content": (
        '{"format":1,"kind":"image","sha256":"3421d9aa928a94decb191ab8e8b76c1d8434bf602c5b3ba10ad42f54c8199c34","size":10000}',
        "5cf0c1168fee011109e1a23d41288adbb6532bd70f68e6ff207a86c1e9c361e3"
        "3c06c1fe27da7d536d188236e5b32abdb927ea34b4642512718bdbfc6b3df205",
    ),
    # Signed over other bytes of the same size: the test image must fail its hash.
    "content_other": (
        '{"format":1,"kind":"image","sha256":"a75d5c7d993389d9b6e5f7adc0a059aba20dc25e11c00f8164c4ec72e966047f","size":10000}',
        "dce2d5eebd6cb8ab9852b29322e2d2e5e7ff470e6fb33799cd104b9297baccb5"
        "e98185f2c223940f66c942756b1cdf7142e0ee0466945366323e1b4bce6cc803",
    ),
}
