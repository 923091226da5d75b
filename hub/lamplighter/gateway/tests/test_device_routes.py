"""Garbage on every device route, on both runtimes: a clear 4xx each time, never a 500 or a crash.

The device runs with no hub (its web server alone), on CPython and as the compiled bundle on
MicroPython's unix port (the `start_device` fixture); after every bad request it still answers.
"""

import base64
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulated import wait_for

SECRET = "device-routes-secret-0123"  # noqa: S105 - test fixture
DEVICE_ID = "dev-routes0001"
AUTH = (DEVICE_ID, SECRET)

BAD_REQUESTS = [
    # (method, path, params, headers, body)
    ("GET", "/control_led", {}, {}, None),
    ("GET", "/control_led", {"room": "Kitchen", "light": "Ceiling", "action": "explode"}, {}, None),
    ("GET", "/control_led", {"room": "K" * 3000, "light": "Ceiling", "action": "on"}, {}, None),
    ("GET", "/control_led?room=%ff&light=%fe&action=on", None, {}, None),
    ("POST", "/control_led", {}, {"Content-Type": "application/json"}, b"{not json"),
    ("POST", "/control_led", {}, {"Content-Type": "application/json"}, b"[1, 2, 3]"),
    ("POST", "/control_led", {}, {"Content-Type": "application/json"}, b'{"room": 5, "light": null}'),
    ("POST", "/control_led", {}, {"Content-Type": "application/x-www-form-urlencoded"}, b"x" * 5000),
    ("POST", "/control_led", {}, {"Content-Type": "application/x-www-form-urlencoded"}, b"\xff\xfe=\x00"),
    ("POST", "/django_update_firmware", {}, {}, b"garbage"),
    ("POST", "/django_update_firmware", {}, {"X-Lamplighter-Manifest": "%%%not base64"}, b"x" * 100),
    ("DELETE", "/status", {}, {}, None),
    ("GET", "/no/such/route", {}, {}, None),
]


@pytest.fixture
def device(start_device: Callable[..., Any], tmp_path: Path) -> Any:
    return start_device(
        tmp_path / DEVICE_ID,
        device_id=DEVICE_ID,
        secret=SECRET,
        hubs=[],
        lights=[{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
    )


def answers(device: Any) -> bool:
    try:
        return httpx.get(device.url + "/status", auth=AUTH, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def still_answers(device: Any) -> None:
    response = httpx.get(device.url + "/status", auth=AUTH, timeout=5)
    assert response.status_code == 200 and response.json()["device_id"] == DEVICE_ID


def test_garbage_on_every_route_is_a_clear_4xx(device: Any) -> None:
    wait_for(lambda: answers(device), 15, "the device's web server")
    with httpx.Client(base_url=device.url, auth=AUTH, timeout=5) as client:
        for method, path, params, headers, body in BAD_REQUESTS:
            response = client.request(method, path, params=params, headers=headers, content=body)
            assert 400 <= response.status_code < 500, (
                method,
                path,
                response.status_code,
                response.text[:200],
            )
            still_answers(device)
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(), "Bearer x", "Basic"):
        response = httpx.get(device.url + "/status", headers={"Authorization": header}, timeout=5)
        assert response.status_code == 401, header
    still_answers(device)
    port = int(device.url.rsplit(":", 1)[1])
    for raw in (b"\x00\xff garbage\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"A" * 9000 + b"\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(raw)
            connection.settimeout(5)
            try:
                answer = connection.recv(200)
            except OSError:
                answer = b""
        assert not answer.startswith(b"HTTP/1.0 5") and not answer.startswith(b"HTTP/1.1 5"), answer
        still_answers(device)
    assert device.light("Kitchen", "Ceiling")["state"]["on"] is False  # nothing was applied
