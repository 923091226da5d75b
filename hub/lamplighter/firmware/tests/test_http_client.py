"""The HTTP client against tiny loopback servers: Content-Length, read-to-close, errors, timeouts."""

import asyncio
import contextlib

import pytest

from .. import http_client


@contextlib.asynccontextmanager
async def server(answer, delay=0.0):
    """A one-shot-per-connection server that records the request and writes `answer`."""
    seen = []

    async def handle(reader, writer):
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        await asyncio.sleep(delay)
        writer.write(answer)
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield "http://127.0.0.1:" + str(listener.sockets[0].getsockname()[1]), seen
    finally:
        listener.close()
        await listener.wait_closed()


async def test_content_length_and_request_headers():
    answer = b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Thing: 1\r\n\r\n{"a": true}'
    async with server(answer) as (url, seen):
        response = await http_client.post_json(url + "/p?q=1", {"x": 1}, {"Authorization": "Basic abc"})
    assert response.status == 200 and response.json() == {"a": True} and response.headers["x-thing"] == "1"
    request = seen[0].decode()
    assert request.startswith("POST /p?q=1 HTTP/1.1\r\n")
    assert "Authorization: Basic abc\r\n" in request and "Content-Length: 8\r\n" in request


async def test_body_until_close():
    async with server(b"HTTP/1.0 404 Not Found\r\n\r\nnothing") as (url, _):
        response = await http_client.get(url + "/")
    assert (response.status, response.text()) == (404, "nothing")


async def test_bad_answers_raise_http_error():
    for answer in (
        b"",
        b"SSH-2.0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n",
    ):
        async with server(answer) as (url, _):
            with pytest.raises(http_client.HttpError):
                await http_client.get(url + "/")


async def test_timeout_and_refused_connection():
    async with server(b"HTTP/1.1 200 OK\r\n\r\n", delay=2) as (url, _):
        with pytest.raises(http_client.HttpError, match="timed out"):
            await http_client.request("GET", url + "/", timeout=0.2)
    with pytest.raises(http_client.HttpError):
        await http_client.get(url + "/", timeout=1)
