"""A tiny async WebSocket client (RFC 6455) over asyncio streams: text, close, ping/pong.

Frame encoding and decoding are pure functions, so they can be tested without sockets.
"""

import binascii
import hashlib
import struct

from . import http_client
from .compat import asyncio, const, random_bytes, wait_for

_OP_CONTINUATION = const(0x0)
OP_TEXT = const(0x1)
OP_BINARY = const(0x2)
_OP_CLOSE = const(0x8)
OP_PING = const(0x9)
_OP_PONG = const(0xA)
_CONTROL_OPCODES = const((_OP_CLOSE, OP_PING, _OP_PONG))
_DATA_OPCODES = const((_OP_CONTINUATION, OP_TEXT, OP_BINARY))
_GUID = const(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
_DEFAULT_MAX_SIZE = const(16384)
_CLOSE_NORMAL = const(1000)
_CLOSE_PROTOCOL_ERROR = const(1002)
_CLOSE_TOO_BIG = const(1009)


class WebSocketError(OSError):
    """The connection failed or the peer broke the protocol."""


class HandshakeError(WebSocketError):
    """The server did not upgrade; status is its HTTP status (None when not HTTP at all)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def accept_key(key):
    """The Sec-WebSocket-Accept value the server must answer for this Sec-WebSocket-Key."""
    digest = hashlib.sha1(key.encode("ascii") + _GUID).digest()  # noqa: S324 - RFC 6455 mandates SHA-1
    return binascii.b2a_base64(digest).decode("ascii").strip()


def new_key():
    """A random Sec-WebSocket-Key."""
    return binascii.b2a_base64(random_bytes(16)).decode("ascii").strip()


def mask_payload(payload, mask_key):
    """XOR payload with the 4-byte mask (masking and unmasking are the same)."""
    masked = bytearray(payload)
    for index in range(len(masked)):
        masked[index] ^= mask_key[index & 3]
    return bytes(masked)


def encode_frame(opcode, payload, fin=True, mask_key=None):
    """Encode one frame; mask_key (4 bytes) masks it as a client must, None leaves it unmasked."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask_key is not None else 0
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask_key is None:
        return head + payload
    # One buffer for the whole frame, masked in place: a board's heap mid-session rarely has
    # room for the two extra copies of the payload that concatenation made.
    start = len(head) + 4
    frame = bytearray(start + len(payload))
    frame[: len(head)] = head
    frame[len(head) : start] = mask_key
    frame[start:] = payload
    for index in range(len(payload)):
        frame[start + index] ^= mask_key[index & 3]
    return frame


def header_size(first_two):
    """Bytes of frame header implied by the first two bytes (2 to 14)."""
    size = 2
    length = first_two[1] & 0x7F
    if length == 126:
        size += 2
    elif length == 127:
        size += 8
    if first_two[1] & 0x80:
        size += 4
    return size


def decode_header(head):
    """Decode a complete frame header; return (fin, opcode, payload_length, mask_key or None)."""
    fin = bool(head[0] & 0x80)
    if head[0] & 0x70:
        raise WebSocketError("reserved bits set (no extension was negotiated)")
    opcode = head[0] & 0x0F
    length = head[1] & 0x7F
    offset = 2
    if length == 126:
        length = struct.unpack("!H", head[2:4])[0]
        offset = 4
    elif length == 127:
        length = struct.unpack("!Q", head[2:10])[0]
        offset = 10
    mask_key = bytes(head[offset : offset + 4]) if head[1] & 0x80 else None
    if opcode not in _CONTROL_OPCODES and opcode not in _DATA_OPCODES:
        raise WebSocketError("unknown opcode " + str(opcode))
    if opcode in _CONTROL_OPCODES and (length > 125 or not fin):
        raise WebSocketError("bad control frame")
    return fin, opcode, length, mask_key


class WebSocket:
    """An open client connection; recv() returns text messages, None once closed."""

    def __init__(self, reader, writer, max_size=_DEFAULT_MAX_SIZE):
        self.reader = reader
        self.writer = writer
        self.max_size = max_size
        self.closed = False

    async def _send_frame(self, opcode, payload):
        if self.closed:
            raise WebSocketError("connection is closed")
        self.writer.write(encode_frame(opcode, payload, mask_key=random_bytes(4)))
        await self.writer.drain()

    async def send(self, text):
        """Send one text message."""
        await self._send_frame(OP_TEXT, text)

    async def ping(self, payload=b""):
        """Send a ping frame (the server answers with a pong)."""
        await self._send_frame(OP_PING, payload)

    async def _read_frame(self):
        first = await self.reader.readexactly(2)
        rest = await self.reader.readexactly(header_size(first) - 2)
        fin, opcode, length, mask_key = decode_header(first + rest)
        if length > self.max_size:
            await self.close(_CLOSE_TOO_BIG)
            raise WebSocketError("frame larger than " + str(self.max_size) + " bytes")
        payload = await self.reader.readexactly(length) if length else b""
        if mask_key is not None:
            payload = mask_payload(payload, mask_key)
        return fin, opcode, payload

    async def recv(self):
        """Return the next text message (str), or None when the connection closed."""
        parts = []
        size = 0
        message_opcode = None
        while not self.closed:
            try:
                fin, opcode, payload = await self._read_frame()
            except (EOFError, OSError):
                self.closed = True
                await http_client.close_stream(self.writer)
                return None
            if opcode == OP_PING:
                await self._send_frame(_OP_PONG, payload)
                continue
            if opcode == _OP_PONG:
                continue
            if opcode == _OP_CLOSE:
                await self.close(_CLOSE_NORMAL)
                return None
            if (opcode == _OP_CONTINUATION) != (message_opcode is not None):
                await self.close(_CLOSE_PROTOCOL_ERROR)
                raise WebSocketError("unexpected continuation frame")
            if message_opcode is None:
                message_opcode = opcode
            size += len(payload)
            if size > self.max_size:
                await self.close(_CLOSE_TOO_BIG)
                raise WebSocketError("message larger than " + str(self.max_size) + " bytes")
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if message_opcode == OP_BINARY:
                    return data
                try:
                    return data.decode("utf-8")
                except UnicodeError:
                    await self.close(_CLOSE_PROTOCOL_ERROR)
                    raise WebSocketError("text message is not UTF-8")
        return None

    async def close(self, code=_CLOSE_NORMAL):
        """Send a close frame (best effort) and close the stream."""
        if self.closed:
            return
        try:
            await self._send_frame(_OP_CLOSE, struct.pack("!H", code))
        except Exception:  # noqa: S110 - the peer may be gone already
            pass
        self.closed = True
        await http_client.close_stream(self.writer)


async def _handshake(url, headers, ssl, max_size):
    scheme, host, port, path = http_client.parse_url(url)
    reader, writer = await http_client.open_stream(scheme, host, port, ssl)
    key = new_key()
    lines = [
        "GET " + path + " HTTP/1.1",
        "Host: " + http_client.host_header(scheme, host, port),
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key,
        "Sec-WebSocket-Version: 13",
    ]
    for name in headers or {}:
        lines.append(name + ": " + headers[name])
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await writer.drain()
        status, response_headers = await http_client.read_head(reader)
    except (OSError, EOFError, ValueError) as error:
        await http_client.close_stream(writer)
        raise HandshakeError("handshake failed: " + str(error))
    if status != 101:
        await http_client.close_stream(writer)
        raise HandshakeError("server refused the upgrade: HTTP " + str(status), status)
    if response_headers.get("sec-websocket-accept") != accept_key(key) or (
        response_headers.get("upgrade", "").lower() != "websocket"
    ):
        await http_client.close_stream(writer)
        raise HandshakeError("bad upgrade answer (Sec-WebSocket-Accept mismatch)", status)
    return WebSocket(reader, writer, max_size)


async def connect(url, headers=None, timeout=10, ssl=None, max_size=_DEFAULT_MAX_SIZE):
    """Open a WebSocket to a ws:// or wss:// URL; HandshakeError when refused, WebSocketError otherwise."""
    try:
        return await wait_for(_handshake(url, headers, ssl, max_size), timeout)
    except http_client.HttpError as error:
        raise WebSocketError(str(error))
    except asyncio.TimeoutError:
        raise WebSocketError("handshake timed out after " + str(timeout) + " s")
