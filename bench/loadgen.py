"""HTTP load generator for the poll benchmark: keep-alive connections, one request in flight each.

Run in its own process (`python bench/loadgen.py URL --auth ... --seconds 10`) so it never
shares an interpreter with the hub; prints one JSON line. A tiny HTTP/1.1 client on raw
asyncio streams (uvloop when present) costs the load side far less CPU than a full client
library, which matters on a 2-core machine where the load generator and the hub share cores.
"""

import argparse
import asyncio
import base64
import json
import time
from urllib.parse import urlsplit

from http11 import read_response  # this script's folder is on sys.path
from proc import process_cpu_seconds


async def worker(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[float], errors: list[str]
) -> None:
    """One connection: send, read the whole response, repeat until stop_at."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            status, _ = await read_response(reader)
            if status != 200:
                errors.append(str(status))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def run(
    url: str, credentials: list[str], connections: int, seconds: float, warmup: float, hub_pid: int | None
) -> dict[str, float]:
    """Drive the URL; each connection uses one device's credentials (round-robin)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Basic {base64.b64encode(c.encode()).decode()}\r\n\r\n"
        ).encode()
        for c in credentials
    ]
    if warmup:
        await asyncio.gather(
            *(
                worker(host, port, requests[i % len(requests)], time.perf_counter() + warmup, [], [])
                for i in range(connections)
            )
        )
    latencies: list[float] = []
    errors: list[str] = []
    hub_cpu = process_cpu_seconds(hub_pid) if hub_pid else 0.0
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(
            worker(host, port, requests[i % len(requests)], stop_at, latencies, errors)
            for i in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    hub_cpu = process_cpu_seconds(hub_pid) - hub_cpu if hub_pid else float("nan")
    latencies.sort()
    return {
        # The hub's CPU per answer: what its throughput is made of, and less moved by other jobs
        # on the machine than requests per second.
        "hub_cpu_us": hub_cpu * 1e6 / max(1, len(latencies)),
        "requests": len(latencies),
        "errors": len(errors),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
    }


def main() -> None:
    """Parse flags, run, print the JSON result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--credentials-file", required=True, help="one device_id:secret per line")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--hub-pid", type=int, help="the hub's process, for its CPU per request")
    args = parser.parse_args()
    with open(args.credentials_file) as handle:
        credentials = [line.strip() for line in handle if line.strip()]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        run(args.url, credentials, args.connections, args.seconds, args.warmup, args.hub_pid)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
