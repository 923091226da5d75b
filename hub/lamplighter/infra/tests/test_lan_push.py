"""LAN push: a device with no WebSocket but a reachable web server gets /control_led calls."""

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from factories import DeviceFactory, LightFactory, RoomFactory
from lamplighter.firmware import protocol
from lamplighter.lights import delivery
from lamplighter.lights.services import light_command_apply
from lamplighter.lights.state import light_command

pytestmark = pytest.mark.django_db


class Recorder(BaseHTTPRequestHandler):
    """A stand-in for the device's web server that records what the hub asks."""

    calls: list[tuple[str, dict, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        Recorder.calls.append((parts.path, parse_qs(parts.query), self.headers.get("Authorization", "")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def fake_device_server() -> Iterator[str]:
    Recorder.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_desired_state_is_pushed_with_the_lan_token(
    fake_device_server: str, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    room = RoomFactory(name="Garage")
    device = DeviceFactory(home=room.home, lan_url=fake_device_server, lan_token="lan-secret-token")
    light = LightFactory(room=room, name="Door", device=device)
    with django_capture_on_commit_callbacks(execute=True):
        light_command_apply(light_id=light.pk, command=light_command({"on": True}))
    [(path, query, authorization)] = Recorder.calls
    assert path == protocol.DEVICE_CONTROL_PATH
    assert query == {"room": ["Garage"], "light": ["Door"], "action": ["on"], "version": ["2"]}
    assert authorization == "Basic " + base64.b64encode(b"hub:lan-secret-token").decode()


def test_paths_in_order_of_preference() -> None:
    room = RoomFactory()
    light = LightFactory(room=room, device=DeviceFactory(home=room.home))
    assert delivery.deliver_desired(device=light.device, lights=[light]) == delivery.PATH_POLL
    light.device.lan_url, light.device.lan_token = "ftp://192.0.2.1/", "t"
    light.device.save()
    assert delivery.deliver_desired(device=light.device, lights=[light]) == delivery.PATH_POLL
    light.device.lan_url = "http://127.0.0.1:9"
    light.device.save()
    assert delivery.deliver_desired(device=light.device, lights=[light]) == delivery.PATH_LAN
    light.device.channel_name = "specific.abc"
    light.device.save()
    assert delivery.deliver_desired(device=light.device, lights=[light]) == delivery.PATH_WEBSOCKET


def test_unreachable_device_does_not_raise() -> None:
    room = RoomFactory()
    device = DeviceFactory(home=room.home, lan_url="http://127.0.0.1:9", lan_token="t")
    light = LightFactory(room=room, device=device)
    assert delivery.deliver_desired(device=device, lights=[light]) == delivery.PATH_LAN
