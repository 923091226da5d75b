"""Ed25519 signature verification (RFC 8032), pure Python: runs on MicroPython and CPython.

Verification only: the device checks a firmware manifest's signature with the public key it
holds on flash. MicroPython has no Ed25519 (and the ESP32 port's hashlib has no SHA-512), so
both are here; a verification takes a few seconds on an ESP32, once per update. Signing
happens offline with a well-kept library (`lamplighter firmware sign`, `cryptography`).
"""

try:
    import hashlib

    _sha512 = getattr(hashlib, "sha512", None)
except ImportError:  # pragma: no cover
    _sha512 = None

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
# The curve's other constants and its base point, derived on the first verification: computed
# at import, they left ~4 KB more heap taken for as long as the module is loaded (the
# MicroPython heap benchmark), on a device that verifies once per update.
D = 0
SQRT_M1 = 0
_BASE = (0, 1, 1, 0)

# ---- SHA-512 (FIPS 180-4) for runtimes without it; only small inputs are hashed here ------

_MASK = 0xFFFFFFFFFFFFFFFF


# FIPS 180-4 4.2.3 and 5.3.5: the first 64 fraction bits of the cube roots of the first 80
# primes (K) and of the square roots of the first 8 (H0), 8 bytes each, big-endian. Kept as
# bytes: loaded from a ROMFS image they stay in flash (big-int literals would take ~7 KB of
# heap; deriving them took ~1 KB lists, and under a board's heap mid-update no 1 KB was left).
_K = (
    b"\x42\x8a\x2f\x98\xd7\x28\xae\x22\x71\x37\x44\x91\x23\xef\x65\xcd\xb5\xc0\xfb\xcf\xec\x4d\x3b\x2f"
    b"\xe9\xb5\xdb\xa5\x81\x89\xdb\xbc\x39\x56\xc2\x5b\xf3\x48\xb5\x38\x59\xf1\x11\xf1\xb6\x05\xd0\x19"
    b"\x92\x3f\x82\xa4\xaf\x19\x4f\x9b\xab\x1c\x5e\xd5\xda\x6d\x81\x18\xd8\x07\xaa\x98\xa3\x03\x02\x42"
    b"\x12\x83\x5b\x01\x45\x70\x6f\xbe\x24\x31\x85\xbe\x4e\xe4\xb2\x8c\x55\x0c\x7d\xc3\xd5\xff\xb4\xe2"
    b"\x72\xbe\x5d\x74\xf2\x7b\x89\x6f\x80\xde\xb1\xfe\x3b\x16\x96\xb1\x9b\xdc\x06\xa7\x25\xc7\x12\x35"
    b"\xc1\x9b\xf1\x74\xcf\x69\x26\x94\xe4\x9b\x69\xc1\x9e\xf1\x4a\xd2\xef\xbe\x47\x86\x38\x4f\x25\xe3"
    b"\x0f\xc1\x9d\xc6\x8b\x8c\xd5\xb5\x24\x0c\xa1\xcc\x77\xac\x9c\x65\x2d\xe9\x2c\x6f\x59\x2b\x02\x75"
    b"\x4a\x74\x84\xaa\x6e\xa6\xe4\x83\x5c\xb0\xa9\xdc\xbd\x41\xfb\xd4\x76\xf9\x88\xda\x83\x11\x53\xb5"
    b"\x98\x3e\x51\x52\xee\x66\xdf\xab\xa8\x31\xc6\x6d\x2d\xb4\x32\x10\xb0\x03\x27\xc8\x98\xfb\x21\x3f"
    b"\xbf\x59\x7f\xc7\xbe\xef\x0e\xe4\xc6\xe0\x0b\xf3\x3d\xa8\x8f\xc2\xd5\xa7\x91\x47\x93\x0a\xa7\x25"
    b"\x06\xca\x63\x51\xe0\x03\x82\x6f\x14\x29\x29\x67\x0a\x0e\x6e\x70\x27\xb7\x0a\x85\x46\xd2\x2f\xfc"
    b"\x2e\x1b\x21\x38\x5c\x26\xc9\x26\x4d\x2c\x6d\xfc\x5a\xc4\x2a\xed\x53\x38\x0d\x13\x9d\x95\xb3\xdf"
    b"\x65\x0a\x73\x54\x8b\xaf\x63\xde\x76\x6a\x0a\xbb\x3c\x77\xb2\xa8\x81\xc2\xc9\x2e\x47\xed\xae\xe6"
    b"\x92\x72\x2c\x85\x14\x82\x35\x3b\xa2\xbf\xe8\xa1\x4c\xf1\x03\x64\xa8\x1a\x66\x4b\xbc\x42\x30\x01"
    b"\xc2\x4b\x8b\x70\xd0\xf8\x97\x91\xc7\x6c\x51\xa3\x06\x54\xbe\x30\xd1\x92\xe8\x19\xd6\xef\x52\x18"
    b"\xd6\x99\x06\x24\x55\x65\xa9\x10\xf4\x0e\x35\x85\x57\x71\x20\x2a\x10\x6a\xa0\x70\x32\xbb\xd1\xb8"
    b"\x19\xa4\xc1\x16\xb8\xd2\xd0\xc8\x1e\x37\x6c\x08\x51\x41\xab\x53\x27\x48\x77\x4c\xdf\x8e\xeb\x99"
    b"\x34\xb0\xbc\xb5\xe1\x9b\x48\xa8\x39\x1c\x0c\xb3\xc5\xc9\x5a\x63\x4e\xd8\xaa\x4a\xe3\x41\x8a\xcb"
    b"\x5b\x9c\xca\x4f\x77\x63\xe3\x73\x68\x2e\x6f\xf3\xd6\xb2\xb8\xa3\x74\x8f\x82\xee\x5d\xef\xb2\xfc"
    b"\x78\xa5\x63\x6f\x43\x17\x2f\x60\x84\xc8\x78\x14\xa1\xf0\xab\x72\x8c\xc7\x02\x08\x1a\x64\x39\xec"
    b"\x90\xbe\xff\xfa\x23\x63\x1e\x28\xa4\x50\x6c\xeb\xde\x82\xbd\xe9\xbe\xf9\xa3\xf7\xb2\xc6\x79\x15"
    b"\xc6\x71\x78\xf2\xe3\x72\x53\x2b\xca\x27\x3e\xce\xea\x26\x61\x9c\xd1\x86\xb8\xc7\x21\xc0\xc2\x07"
    b"\xea\xda\x7d\xd6\xcd\xe0\xeb\x1e\xf5\x7d\x4f\x7f\xee\x6e\xd1\x78\x06\xf0\x67\xaa\x72\x17\x6f\xba"
    b"\x0a\x63\x7d\xc5\xa2\xc8\x98\xa6\x11\x3f\x98\x04\xbe\xf9\x0d\xae\x1b\x71\x0b\x35\x13\x1c\x47\x1b"
    b"\x28\xdb\x77\xf5\x23\x04\x7d\x84\x32\xca\xab\x7b\x40\xc7\x24\x93\x3c\x9e\xbe\x0a\x15\xc9\xbe\xbc"
    b"\x43\x1d\x67\xc4\x9c\x10\x0d\x4c\x4c\xc5\xd4\xbe\xcb\x3e\x42\xb6\x59\x7f\x29\x9c\xfc\x65\x7e\x2a"
    b"\x5f\xcb\x6f\xab\x3a\xd6\xfa\xec\x6c\x44\x19\x8c\x4a\x47\x58\x17"
)
_H0 = (
    b"\x6a\x09\xe6\x67\xf3\xbc\xc9\x08\xbb\x67\xae\x85\x84\xca\xa7\x3b\x3c\x6e\xf3\x72\xfe\x94\xf8\x2b"
    b"\xa5\x4f\xf5\x3a\x5f\x1d\x36\xf1\x51\x0e\x52\x7f\xad\xe6\x82\xd1\x9b\x05\x68\x8c\x2b\x3e\x6c\x1f"
    b"\x1f\x83\xd9\xab\xfb\x41\xbd\x6b\x5b\xe0\xcd\x19\x13\x7e\x21\x79"
)


def _word(table, index):
    return int.from_bytes(table[8 * index : 8 * index + 8], "big")


def _rotr(x, n):
    return ((x >> n) | (x << (64 - n))) & _MASK


def sha512_pure(data):
    """SHA-512 of data, computed in Python (used when hashlib has no sha512)."""
    data = bytes(data)
    length = len(data) * 8
    data += b"\x80" + b"\x00" * ((111 - len(data)) % 128) + length.to_bytes(16, "big")
    h = [_word(_H0, i) for i in range(8)]
    w = [0] * 16  # the message schedule as a ring of 16 words, not a list of 80
    for offset in range(0, len(data), 128):
        for i in range(16):
            w[i] = int.from_bytes(data[offset + 8 * i : offset + 8 * i + 8], "big")
        a, b, c, d, e, f, g, hh = h
        for i in range(80):
            if i >= 16:
                w15, w2 = w[(i - 15) & 15], w[(i - 2) & 15]
                s0 = _rotr(w15, 1) ^ _rotr(w15, 8) ^ (w15 >> 7)
                s1 = _rotr(w2, 19) ^ _rotr(w2, 61) ^ (w2 >> 6)
                w[i & 15] = (w[i & 15] + s0 + w[(i - 7) & 15] + s1) & _MASK
            t1 = (
                hh
                + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41))
                + ((e & f) ^ (~e & g))
                + _word(_K, i)
                + w[i & 15]
            ) & _MASK
            t2 = ((_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & _MASK
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & _MASK, c, b, a, (t1 + t2) & _MASK
        added = (a, b, c, d, e, f, g, hh)  # zip(strict=) does not exist on MicroPython
        h = [(h[i] + added[i]) & _MASK for i in range(8)]
    return b"".join(x.to_bytes(8, "big") for x in h)


def sha512(data):
    """SHA-512 of data: the runtime's when it has one, else the Python one."""
    if _sha512 is not None:
        return _sha512(data).digest()
    return sha512_pure(data)  # pragma: no cover - MicroPython


# ---- the curve, in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z ----------


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(p):
    a = p[0] * p[0] % P
    b = p[1] * p[1] % P
    c = 2 * p[2] * p[2] % P
    h = a + b
    e = h - (p[0] + p[1]) * (p[0] + p[1])
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _multiply(scalar, point):
    result = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _double(point)
        scalar >>= 1
    return result


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P  # times the inverse (Fermat)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decode_point(encoded):
    if len(encoded) != 32:
        return None
    y = int.from_bytes(encoded, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _prepare_curve():
    # _BASE is assigned last and checked first: a thread that sees it set sees D and SQRT_M1
    # too (simulated devices verify in threads of one process); racing threads compute twice.
    global D, SQRT_M1, _BASE
    if _BASE[0]:
        return
    D = (-121665 * pow(121666, P - 2, P)) % P
    SQRT_M1 = pow(2, (P - 1) // 4, P)
    base_y = (4 * pow(5, P - 2, P)) % P
    base_x = _recover_x(base_y, 0)
    _BASE = (base_x, base_y, 1, base_x * base_y % P)


def verify(public_key, message, signature):
    """True when signature (64 bytes) is public_key's (32 bytes) Ed25519 signature of message."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    _prepare_curve()
    a_point = _decode_point(bytes(public_key))
    r_point = _decode_point(bytes(signature[:32]))
    if a_point is None or r_point is None:
        return False
    s = int.from_bytes(bytes(signature[32:]), "little")
    if s >= L:  # malleability check of RFC 8032 5.1.7
        return False
    h = int.from_bytes(sha512(bytes(signature[:32]) + bytes(public_key) + bytes(message)), "little") % L
    p, q = _multiply(s, _BASE), _add(r_point, _multiply(h, a_point))
    # p == q: x1/z1 == x2/z2 and y1/z1 == y2/z2, without divisions.
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0
