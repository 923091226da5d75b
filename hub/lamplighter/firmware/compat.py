"""Runtime gaps between MicroPython and CPython, bridged by feature detection (never versions)."""

import time

try:
    import asyncio
except ImportError:  # pragma: no cover - older MicroPython ports
    import uasyncio as asyncio  # type: ignore[no-redef]

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os  # type: ignore[no-redef]

_ticks_add = getattr(time, "ticks_add", None)

try:
    # NAME = const(value) with a leading underscore: mpy-cross puts the value where the name is
    # used, so the constant takes no slot in the module's globals (heap on a board).
    from micropython import const
except ImportError:

    def const(value):
        """micropython.const on CPython: the value itself."""
        return value


try:
    from random import getrandbits
except ImportError:  # pragma: no cover
    from urandom import getrandbits  # type: ignore[no-redef]

_urandom = getattr(os, "urandom", None)


if hasattr(time, "ticks_ms"):
    # MicroPython's own (wrap-around safe), called directly: no Python function in between.
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff  # type: ignore[attr-defined]
else:

    def ticks_ms():  # type: ignore[misc]
        """Milliseconds from an arbitrary, monotonic origin."""
        return int(time.monotonic() * 1000)

    def ticks_diff(end, start):
        """end - start in milliseconds (MicroPython's is wrap-around safe)."""
        return end - start


def ticks_add(ticks, delta):
    """ticks + delta milliseconds, wrap-around safe where ticks wrap."""
    if _ticks_add is not None:
        return _ticks_add(ticks, int(delta))
    return ticks + int(delta)


async def sleep_ms(ms):
    """Sleep for ms milliseconds without blocking the loop."""
    sleeper = getattr(asyncio, "sleep_ms", None)
    if sleeper is not None:
        await sleeper(int(ms))
    else:
        await asyncio.sleep(ms / 1000)


def random_bytes(count):
    """count random bytes from the OS generator when there is one, else the PRNG."""
    if _urandom is not None:
        try:
            return _urandom(count)
        except (OSError, NotImplementedError):  # pragma: no cover
            pass
    data = bytearray(count)  # pragma: no cover
    for index in range(count):  # pragma: no cover
        data[index] = getrandbits(8)
    return bytes(data)  # pragma: no cover


def random_fraction():
    """A random float in [0, 1): jitter does not need a cryptographic source."""
    return getrandbits(24) / 16777216


def token_hex(count):
    """A random token of count bytes as lowercase hex."""
    return "".join("%02x" % byte for byte in random_bytes(count))


def constant_time_equal(a, b):
    """Compare two strings or byte strings without an early exit (secrets, tokens)."""
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    result = len(a) ^ len(b)
    # Compare against b itself when lengths differ, so timing does not depend on a's content.
    other = b if len(a) == len(b) else a
    for index in range(len(a)):  # zip(strict=) does not exist on MicroPython
        result |= a[index] ^ other[index]
    return result == 0


wait_for = getattr(asyncio, "wait_for", None)
if wait_for is None:  # pragma: no cover - a port without it

    async def wait_for(awaitable, timeout):  # type: ignore[no-redef]
        """A plain await: the timeout is not enforced."""
        return await awaitable


def path_exists(path):
    """True when a file or folder exists (MicroPython has no os.path)."""
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def join_path(folder, name):
    """folder/name with one separator."""
    if folder.endswith("/"):
        return folder + name
    return folder + "/" + name


def fsync(handle):
    """Flush a file to storage where the runtime can."""
    handle.flush()
    sync = getattr(os, "fsync", None)
    if sync is not None and hasattr(handle, "fileno"):
        try:
            sync(handle.fileno())
        except (OSError, AttributeError):  # pragma: no cover
            pass


def _tls_module():
    # Imported on first use: the ESP32's ssl is frozen Python that a plain-http device never needs.
    try:
        import ssl

        return ssl
    except ImportError:  # pragma: no cover - a port built without TLS
        try:
            import tls  # type: ignore[import-not-found]

            return tls
        except ImportError:
            return None


def tls_context(cafile=None):
    """An SSL context that verifies the server against the CA certificate in cafile (PEM).

    CPython: ssl.create_default_context(cafile=...), hostname checked. MicroPython:
    SSLContext(PROTOCOL_TLS_CLIENT) with CERT_REQUIRED and the CA loaded. Without a cafile the
    runtime's default trust store is used where there is one (CPython); MicroPython has none,
    so it needs the CA file (ValueError otherwise).
    """
    _ssl = _tls_module()
    if _ssl is None:  # pragma: no cover
        raise ValueError("this runtime has no TLS")
    creator = getattr(_ssl, "create_default_context", None)
    if creator is not None:
        return creator(cafile=cafile) if cafile else creator()
    if not cafile:  # pragma: no cover - MicroPython
        raise ValueError("a CA certificate (ca.pem) is needed for https hubs")
    context = _ssl.SSLContext(_ssl.PROTOCOL_TLS_CLIENT)  # pragma: no cover - MicroPython
    context.verify_mode = _ssl.CERT_REQUIRED  # pragma: no cover
    with open(cafile, "rb") as handle:  # pragma: no cover
        context.load_verify_locations(cadata=handle.read())
    return context  # pragma: no cover
