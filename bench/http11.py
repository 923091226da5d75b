"""A tiny keep-alive HTTP/1.1 client on asyncio streams, for the benchmark's own requests.

A full client library costs the benchmark more CPU per request than the hub spends answering
it (httpx: ~2.3 ms per call on the 2-core machine of 2026-11-27, against ~2.5 ms for the
hub's whole toggle), and both share the same 2 cores: the figures would measure the client.
This sends a request and reads one whole answer (Content-Length bodies only, as the hub sends).
"""

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class Http11Connection:
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host
        self.headers = b""

    @classmethod
    async def open(cls, base_url: str, headers: dict[str, str] | None = None) -> "Http11Connection":
        """Connect to the URL's host; `headers` go with every request."""
        parts = urlsplit(base_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        connection = cls(reader, writer, f"{host}:{port}")
        connection.headers = "".join(
            f"{name}: {value}\r\n" for name, value in (headers or {}).items()
        ).encode()
        return connection

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, bytes]:
        """(status, body) of one request."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n".encode() + self.headers
        if body or method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode()
        self.writer.write(head + b"\r\n" + body)
        return await read_response(self.reader)

    async def post_json(self, path: str, payload: Any) -> tuple[int, bytes]:
        """POST a JSON body."""
        return await self.request("POST", path, json.dumps(payload).encode(), "application/json")

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        await self.writer.wait_closed()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(status, body) of the next answer on the stream."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, (await reader.readexactly(length) if length else b"")
