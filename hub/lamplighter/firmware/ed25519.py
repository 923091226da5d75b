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


def _primes(count):
    found = []
    candidate = 2
    while len(found) < count:
        if all(candidate % prime for prime in found):
            found.append(candidate)
        candidate += 1
    return found


def _root(value, power):
    # Integer power-th root (Newton from above), exact on big ints; MicroPython has no bit_length.
    root = 1 << (4 * len(hex(value)) // power + 1)
    while True:
        better = ((power - 1) * root + value // root ** (power - 1)) // power
        if better >= root:
            return root
        root = better


def _constants():
    # FIPS 180-4 4.2.3 and 5.3.5: the first 64 fraction bits of the cube roots of the first 80
    # primes (K) and of the square roots of the first 8 (H0). Derived on use rather than stored:
    # 88 big-int literals would hold about 7 KB of heap for as long as the module is loaded.
    primes = _primes(80)
    return [_root(p << 192, 3) & _MASK for p in primes], [_root(p << 128, 2) & _MASK for p in primes[:8]]


def _rotr(x, n):
    return ((x >> n) | (x << (64 - n))) & _MASK


def sha512_pure(data):
    """SHA-512 of data, computed in Python (used when hashlib has no sha512)."""
    data = bytes(data)
    length = len(data) * 8
    data += b"\x80" + b"\x00" * ((111 - len(data)) % 128) + length.to_bytes(16, "big")
    k, h = _constants()
    for offset in range(0, len(data), 128):
        w = [int.from_bytes(data[offset + 8 * i : offset + 8 * i + 8], "big") for i in range(16)]
        for i in range(16, 80):
            s0 = _rotr(w[i - 15], 1) ^ _rotr(w[i - 15], 8) ^ (w[i - 15] >> 7)
            s1 = _rotr(w[i - 2], 19) ^ _rotr(w[i - 2], 61) ^ (w[i - 2] >> 6)
            w.append((w[i - 16] + s0 + w[i - 7] + s1) & _MASK)
        a, b, c, d, e, f, g, hh = h
        for i in range(80):
            t1 = (
                hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g)) + k[i] + w[i]
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


def _inverse(x):
    return pow(x, P - 2, P)


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


def _equal(p, q):
    # x1/z1 == x2/z2 and y1/z1 == y2/z2, without divisions.
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inverse(D * y * y + 1) % P
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
    return _equal(_multiply(s, _BASE), _add(r_point, _multiply(h, a_point)))
