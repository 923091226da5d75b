"""A tiny async HTTP/1.1 client over asyncio streams (no such client runs on both runtimes)."""

import binascii
import json

from .compat import asyncio, const, tls_context, wait_for

_MAX_RESPONSE_BYTES = const(32768)
_MAX_HEADER_LINE = const(2048)
_MAX_HEADERS = const(64)
_DEFAULT_TIMEOUT = const(10)


class HttpError(OSError):
    """The request could not be made or the answer was not valid HTTP."""


class Response:
    """A complete HTTP response: status, headers (lower-case names) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self):
        """The body decoded as JSON (ValueError when it is not)."""
        return json.loads(self.body)


def parse_url(url):
    """Split an http(s)/ws(s) URL into (scheme, host, port, path); ValueError when malformed."""
    if "://" not in url:
        raise ValueError("URL needs a scheme: " + url)
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    if scheme != "http" and scheme != "ws" and not is_secure(scheme):
        raise ValueError("unsupported URL scheme: " + scheme)
    if "/" in rest:
        netloc, path = rest.split("/", 1)
        path = "/" + path
    else:
        netloc, path = rest, "/"
    if "@" in netloc:
        raise ValueError("credentials in URLs are not supported")
    port = 443 if is_secure(scheme) else 80
    host = netloc
    if ":" in netloc:
        host, port_text = netloc.rsplit(":", 1)
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError("bad port in URL: " + url)
    if not host:
        raise ValueError("URL has no host: " + url)
    return scheme, host, port, path


def is_secure(scheme):
    """True for https and wss."""
    return scheme == "https" or scheme == "wss"  # not `in` a tuple: a tuple is heap from import on


def basic_auth(user, password):
    """An Authorization header value for HTTP Basic."""
    raw = (user + ":" + password).encode("utf-8")
    return "Basic " + binascii.b2a_base64(raw).decode("ascii").strip()


def host_header(scheme, host, port):
    """The Host header: the port only when it is not the scheme's default."""
    default = 443 if is_secure(scheme) else 80
    return host if port == default else host + ":" + str(port)


async def open_stream(scheme, host, port, ssl=None):
    """Open a TCP (or TLS for https/wss) connection; ssl may be an SSLContext."""
    try:
        if is_secure(scheme):
            if ssl is None:
                # Never ssl=True: MicroPython's default context does not verify the certificate.
                try:
                    ssl = tls_context()
                except ValueError as error:
                    raise HttpError("no TLS to " + host + ": " + str(error))
            return await asyncio.open_connection(host, port, ssl=ssl)
        return await asyncio.open_connection(host, port)
    except OSError as error:
        raise HttpError("cannot connect to " + host + ":" + str(port) + ": " + str(error))


async def close_stream(writer):
    """Close a stream writer, ignoring a peer that already went away."""
    try:
        writer.close()
        await writer.wait_closed()
    except Exception:  # noqa: S110 - closing must never raise
        pass


async def read_head(reader):
    """Read a status line and headers; return (status, headers)."""
    line = await reader.readline()
    if not line:
        raise HttpError("connection closed before a response")
    parts = line.decode("utf-8").strip().split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise HttpError("not an HTTP response")
    try:
        status = int(parts[1])
    except ValueError:
        raise HttpError("bad HTTP status")
    headers = {}
    while True:
        line = await reader.readline()
        if not line:
            raise HttpError("connection closed in the headers")
        if len(line) > _MAX_HEADER_LINE or len(headers) > _MAX_HEADERS:
            raise HttpError("response headers too large")
        line = line.decode("utf-8").strip()
        if not line:
            return status, headers
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()


async def _read_chunked(reader, limit):
    body = b""
    while True:
        line = await reader.readline()
        if not line:
            raise HttpError("connection closed in a chunked body")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError("bad chunk size")
        if size == 0:
            # Trailers (rare) end with a blank line.
            while True:
                line = await reader.readline()
                if not line or not line.strip():
                    return body
        if len(body) + size > limit:
            raise HttpError("response body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _read_body(reader, headers, limit):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader, limit)
    length = headers.get("content-length")
    if length is not None:
        try:
            length = int(length)
        except ValueError:
            raise HttpError("bad Content-Length")
        if length > limit:
            raise HttpError("response body too large")
        return await reader.readexactly(length) if length else b""
    body = b""
    while True:
        block = await reader.read(1024)
        if not block:
            return body
        body += block
        if len(body) > limit:
            raise HttpError("response body too large")


async def _exchange(method, url, headers, body, ssl, limit):
    scheme, host, port, path = parse_url(url)
    reader, writer = await open_stream(scheme, host, port, ssl)
    try:
        lines = [method + " " + path + " HTTP/1.1", "Host: " + host_header(scheme, host, port)]
        lines.append("Connection: close")
        for name in headers:
            lines.append(name + ": " + headers[name])
        if body is not None:
            lines.append("Content-Length: " + str(len(body)))
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        if body:
            writer.write(body)
        await writer.drain()
        status, response_headers = await read_head(reader)
        if method == "HEAD" or status == 204 or status == 304:
            return Response(status, response_headers, b"")
        return Response(status, response_headers, await _read_body(reader, response_headers, limit))
    except (EOFError, ValueError) as error:
        # asyncio.IncompleteReadError is an EOFError.
        raise HttpError("bad or truncated response: " + str(error))
    finally:
        await close_stream(writer)


async def request(
    method, url, headers=None, body=None, timeout=_DEFAULT_TIMEOUT, ssl=None, limit=_MAX_RESPONSE_BYTES
):
    """Make one request; return a Response. HttpError on network or HTTP errors, including timeout."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return await wait_for(_exchange(method, url, headers or {}, body, ssl, limit), timeout)
    except asyncio.TimeoutError:
        raise HttpError("timed out after " + str(timeout) + " s: " + method + " " + url)


async def get(url, headers=None, timeout=_DEFAULT_TIMEOUT, ssl=None):
    """GET url."""
    return await request("GET", url, headers, None, timeout, ssl)


async def post_json(url, value, headers=None, timeout=_DEFAULT_TIMEOUT, ssl=None):
    """POST value as a JSON body."""
    all_headers = {"Content-Type": "application/json"}
    if headers:
        all_headers.update(headers)
    return await request("POST", url, all_headers, json.dumps(value), timeout, ssl)
