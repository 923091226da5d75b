"""WebSocket frames and handshake keys, HTTP helpers: pure functions, no sockets."""

import hashlib
import unittest

from .. import http_client, ws_client


def decode_frame(data):
    # One frame from the start of data, decoded with the client's own header functions (the
    # client reads a header, then its payload, from the stream): (fin, opcode, payload, used),
    # or None when incomplete. Here, not in ws_client: a board's heap does not carry test helpers.
    if len(data) < 2:
        return None
    size = ws_client.header_size(data[:2])
    if len(data) < size:
        return None
    fin, opcode, length, mask_key = ws_client.decode_header(data[:size])
    if len(data) < size + length:
        return None
    payload = bytes(data[size : size + length])
    if mask_key is not None:
        payload = ws_client.mask_payload(payload, mask_key)
    return fin, opcode, payload, size + length


class FrameTest(unittest.TestCase):
    def test_rfc_6455_examples(self):
        # Section 5.7: a single-frame unmasked and masked text message "Hello".
        self.assertEqual(ws_client.encode_frame(ws_client.OP_TEXT, "Hello"), b"\x81\x05Hello")
        masked = ws_client.encode_frame(ws_client.OP_TEXT, "Hello", mask_key=b"\x37\xfa\x21\x3d")
        self.assertEqual(masked, b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
        self.assertEqual(decode_frame(masked), (True, ws_client.OP_TEXT, b"Hello", 11))

    def test_lengths_16_and_64_bit(self):
        for size in (125, 126, 65535, 65536):
            frame = ws_client.encode_frame(ws_client.OP_BINARY, b"x" * size, mask_key=b"abcd")
            fin, opcode, payload, used = decode_frame(frame)
            self.assertEqual((fin, opcode, len(payload), used), (True, ws_client.OP_BINARY, size, len(frame)))
            self.assertEqual(payload, b"x" * size)

    def test_incomplete_frames(self):
        frame = ws_client.encode_frame(ws_client.OP_TEXT, "Hello there", mask_key=b"abcd")
        for cut in range(len(frame)):
            self.assertIsNone(decode_frame(frame[:cut]))

    def test_fragment_and_control_flags(self):
        frame = ws_client.encode_frame(ws_client.OP_TEXT, "part", fin=False)
        self.assertEqual(decode_frame(frame)[:2], (False, ws_client.OP_TEXT))
        with self.assertRaises(ws_client.WebSocketError):
            decode_frame(ws_client.encode_frame(ws_client.OP_PING, "x", fin=False))
        with self.assertRaises(ws_client.WebSocketError):
            decode_frame(ws_client.encode_frame(ws_client.OP_PING, b"x" * 126))
        with self.assertRaises(ws_client.WebSocketError):
            decode_frame(b"\xc1\x00")  # RSV1 without an extension
        with self.assertRaises(ws_client.WebSocketError):
            decode_frame(b"\x83\x00")  # reserved opcode

    # The ESP32 build has hashlib.sha1; the WebAssembly port used for the MicroPython run does not.
    @unittest.skipUnless(hasattr(hashlib, "sha1"), "this MicroPython port has no hashlib.sha1")
    def test_accept_key(self):
        # RFC 6455 section 1.3 example.
        self.assertEqual(ws_client.accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertEqual(len(ws_client.new_key()), 24)
        self.assertNotEqual(ws_client.new_key(), ws_client.new_key())

    def test_masking_is_its_own_inverse(self):
        data = bytes(range(50))
        self.assertEqual(ws_client.mask_payload(ws_client.mask_payload(data, b"k3y!"), b"k3y!"), data)


class HttpHelpersTest(unittest.TestCase):
    def test_parse_url(self):
        self.assertEqual(http_client.parse_url("http://h:8000/a/b"), ("http", "h", 8000, "/a/b"))
        self.assertEqual(http_client.parse_url("https://h"), ("https", "h", 443, "/"))
        self.assertEqual(http_client.parse_url("ws://h/ws/device/"), ("ws", "h", 80, "/ws/device/"))
        for bad in ("h:80", "ftp://h", "http://u:p@h/", "http://h:x/", "http:///p"):
            with self.assertRaises(ValueError):
                http_client.parse_url(bad)

    def test_basic_auth(self):
        self.assertEqual(
            http_client.basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        )

    def test_host_header(self):
        self.assertEqual(http_client.host_header("http", "h", 80), "h")
        self.assertEqual(http_client.host_header("https", "h", 8443), "h:8443")


class HubUrlTest(unittest.TestCase):
    def test_websocket_url_follows_the_hub_scheme(self):
        from ..hub_client import websocket_url

        self.assertEqual(websocket_url("http://10.0.0.2:8000"), "ws://10.0.0.2:8000/ws/device/")
        self.assertEqual(
            websocket_url("https://hub.example.com/base"), "wss://hub.example.com/base/ws/device/"
        )

    def test_mode_for_url(self):
        from .. import protocol
        from ..hub_client import mode_for_url

        for url in ("http://127.0.0.1:8000", "http://192.168.1.2", "http://172.20.0.1", "http://pi.local"):
            self.assertEqual(mode_for_url(url), protocol.MODE_LOCAL, url)
        for url in ("https://hub.example.com", "http://172.32.0.1", "http://8.8.8.8"):
            self.assertEqual(mode_for_url(url), protocol.MODE_REMOTE, url)


if __name__ == "__main__":
    unittest.main()
