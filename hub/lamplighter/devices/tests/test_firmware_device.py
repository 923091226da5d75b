"""The firmware as an ESP32 would run it, against a real hub on loopback (the simulator's HAL).

Provisioning from an empty flash to a paired device, a Wi-Fi drop and re-join, a button
pressed while offline and the conflict rule, logs reaching the hub and a dashboard, and TLS
to an https hub checked against the CA certificate on the device's flash.
"""

import asyncio
import datetime
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets.sync.client
from django.test import Client

from conftest import LiveHub, api_client, free_port
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices import services
from lamplighter.devices.models import Device, DeviceLogLine
from lamplighter.firmware import config as config_module
from lamplighter.firmware import log as log_module
from lamplighter.firmware.hal.host import HostHal
from lamplighter.firmware.setup_portal import SetupPortal
from lamplighter.lights.models import Light
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "firmware-device-secret-0123456789"  # noqa: S105 - test fixture


@pytest.fixture
def devices(start_device: Callable[..., Any]) -> Callable[..., Any]:
    return start_device


def reported(light: Light) -> tuple:
    light.refresh_from_db()
    return light.reported_on, light.reported_version


def online(device: Device) -> bool:
    return Device.objects.get(pk=device.pk).online


# ---- provisioning ---------------------------------------------------------------------------


def run_portal(portal: SetupPortal, result: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: result.append(asyncio.run(portal.run())), daemon=True)
    thread.start()
    return thread


def wait_for_port(port: int) -> None:
    def listening() -> bool:
        try:
            httpx.get(f"http://127.0.0.1:{port}/status", timeout=1)
            return True
        except httpx.HTTPError:
            return False

    wait_for(listening, 5, "the setup page")


def test_an_empty_device_pairs_and_starts(live_hub: LiveHub, tmp_path: Path, devices: Callable) -> None:
    owner = UserFactory()
    home = HomeFactory(owner=owner, name="Cottage")
    _, code = services.pairing_code_create(home=home, user=owner)
    flash = tmp_path / "new"
    port = free_port()
    # An empty flash: the device serves its setup page, pairs, and reboots into normal operation.
    simulated = devices(flash, setup=("127.0.0.1", port, 30))
    wait_for_port(port)
    base = f"http://127.0.0.1:{port}"
    assert b"Pairing code" in httpx.get(base + "/").content
    form = {"ssid": "", "hub": live_hub.url, "code": code, "name": "porch"}
    foreign = httpx.post(base + "/setup", data=form, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    wrong = httpx.post(base + "/setup", data=dict(form, code="ABCDEFGH"))
    assert wrong.status_code == 400 and b"refused the pairing code" in wrong.content
    done = httpx.post(base + "/setup", data=form)
    assert done.status_code == 200, done.text
    wait_for(lambda: config_module.exists(str(flash)), 10, "the config on flash")
    config = config_module.load(str(flash))
    device = Device.objects.get(device_id=config["device_id"])
    assert device.home == home and device.name == "porch"
    wait_for(lambda: online(device), 15, "the paired device online")
    assert simulated.boots == 2
    assert config["secret"] not in simulated.output()


def test_the_setup_page_closes_after_its_timeout(tmp_path: Path) -> None:
    hal = HostHal(str(tmp_path))
    port = free_port()
    portal = SetupPortal(hal, log_module.Logger("setup", hal, echo=False), "host", "127.0.0.1", port, 0.5)
    result: list = []
    run_portal(portal, result).join(10)
    assert result == [None] and portal.state == "closed"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    assert not config_module.exists(str(tmp_path))


# ---- Wi-Fi, buttons, offline changes and the conflict rule -------------------------------------


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    ceiling = LightFactory(room=room, name="Ceiling", device=device)
    counter = LightFactory(room=room, name="Counter", device=device)
    return owner, device, ceiling, counter


def boot(devices: Callable, tmp_path: Path, hub_url: str, device: Device, **config: Any) -> Any:
    return devices(
        tmp_path / device.device_id,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[hub_url],
        lights=[
            {"room": "Kitchen", "light": "Ceiling", "pin": 2, "button": 30},
            {"room": "Kitchen", "light": "Counter", "pin": 3, "button": 31},
        ],
        **config,
    )


def test_wifi_drop_rejoin_buttons_and_the_conflict_rule(
    live_hub: LiveHub, home: tuple, devices: Callable, tmp_path: Path
) -> None:
    owner, device, ceiling, counter = home
    simulated = boot(devices, tmp_path, live_hub.url, device)
    wait_for(lambda: online(device), 10, "the device online")
    wait_for(lambda: reported(ceiling)[1] == ceiling.desired_version, 5, "the first report")
    assert simulated.control("wifi")["power_save"] is False  # power saving off by default
    simulated.control("cut_wifi")
    wait_for(lambda: not online(device), 10, "the hub to see the device go")
    assert simulated.control("wifi")["connected"] is False
    # Offline: a button on the device toggles Counter; the page still works too.
    simulated.control("press", 31)
    wait_for(lambda: simulated.light("Kitchen", "Counter")["state"]["on"], 5, "the button press")
    assert simulated.pin(3) is True and simulated.light("Kitchen", "Counter")["changed"] is True
    status = httpx.get(simulated.url + "/status", auth=(device.device_id, SECRET), timeout=5).json()
    assert status["wifi"]["connected"] is False and status["rssi"] is None
    # Both sides change Ceiling while apart: the device by its button, a user on the dashboard.
    simulated.control("press", 30)
    wait_for(lambda: simulated.light("Kitchen", "Ceiling")["state"]["on"], 5, "the second press")
    with api_client(live_hub, owner) as client:
        assert client.post(f"/api/v1/lights/{ceiling.pk}/state", json={"on": False}).status_code == 202
    ceiling.refresh_from_db()
    hub_version = ceiling.desired_version
    simulated.control("restore_wifi")
    wait_for(lambda: simulated.control("wifi")["joins"] >= 2, 10, "the Wi-Fi re-join")
    wait_for(lambda: online(device), 10, "the device back online")
    # Counter: a local change on top of the hub's state, so it becomes the desired state.
    wait_for(lambda: reported(counter)[0] is True, 10, "Counter's local change on the hub")
    counter.refresh_from_db()
    assert counter.desired_on is True
    # Ceiling: a conflict, so the hub's state wins and the device follows it.
    wait_for(
        lambda: simulated.light("Kitchen", "Ceiling")["version"] >= hub_version, 10, "the conflict resolved"
    )
    assert simulated.light("Kitchen", "Ceiling")["state"]["on"] is False
    assert simulated.pin(2) is False
    ceiling.refresh_from_db()
    assert ceiling.desired_on is False
    status = httpx.get(simulated.url + "/status", auth=(device.device_id, SECRET), timeout=5).json()
    assert status["wifi"]["drops"] == 1 and status["rssi"] is not None
    assert status["hub"]["mode"] == "local"
    watchdog = simulated.control("watchdog")
    assert watchdog["feeds"] >= 1 and not watchdog["expired"]


# ---- logs ---------------------------------------------------------------------------------------


def dashboard_socket(hub: LiveHub, user: object) -> Any:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return websockets.sync.client.connect(
        hub.ws_url + "/ws/dashboard/",
        additional_headers={"Cookie": cookie, "Origin": hub.url},
        open_timeout=5,
    )


def test_logs_reach_the_hub_and_the_dashboard_without_secrets(
    live_hub: LiveHub, home: tuple, devices: Callable, tmp_path: Path
) -> None:
    owner, device, _, _ = home
    simulated = boot(
        devices, tmp_path, live_hub.url, device, wifi={"ssid": "home", "password": "wifi-password-1"}
    )
    wait_for(lambda: online(device), 10, "the device online")
    with dashboard_socket(live_hub, owner) as socket:
        simulated.control("log", f"auth {SECRET} wifi wifi-password-1 marker-42")
        deadline = time.monotonic() + 10
        marked: list[dict] = []
        while time.monotonic() < deadline and not marked:
            frame = json.loads(socket.recv(timeout=10))  # one event, or a list of events
            marked = [
                event
                for event in (frame if isinstance(frame, list) else [frame])
                if event.get("type") == "device.log"
                and any("marker-42" in line["text"] for line in event["lines"])
            ]
        event = marked[0] if marked else {}
        assert event.get("device_id") == device.pk
    line = DeviceLogLine.objects.get(device=device, text__contains="marker-42")
    assert line.level == "WARN" and "***" in line.text
    stored = " ".join(DeviceLogLine.objects.filter(device=device).values_list("text", flat=True))
    assert (
        SECRET not in stored
        and "wifi-password-1" not in stored
        and simulated.control("lan_token") not in stored
    )
    assert "connected to" in stored  # the device's own lines from before the socket came up too


# ---- TLS ----------------------------------------------------------------------------------------


def make_ca(folder: Path, name: str) -> tuple[Path, Any, Any]:
    """A throwaway CA: (ca.pem path, certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert, key


def make_server_cert(folder: Path, ca_cert: Any, ca_key: Any) -> tuple[Path, Path]:
    """A server certificate for localhost and 127.0.0.1, signed by the CA: (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_hub(transactional_db: None, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The real hub over https on a loopback port, with a certificate from a throwaway CA."""
    from lamplighter.serving.server import uvicorn_config

    certs = tmp_path / "certs"
    certs.mkdir()
    ca_path, ca_cert, ca_key = make_ca(certs, "test-ca")
    cert_path, key_path = make_server_cert(certs, ca_cert, ca_key)
    port = free_port()
    config = uvicorn_config("127.0.0.1", port)
    config.log_level = "warning"
    config.ssl_certfile = str(cert_path)
    config.ssl_keyfile = str(key_path)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), 20, "the https hub")
    assert server.started
    yield f"https://localhost:{port}", ca_path
    server.should_exit = True
    thread.join(timeout=15)


def test_tls_hub_checked_against_the_ca_on_flash(tls_hub: tuple, devices: Callable, tmp_path: Path) -> None:
    hub_url, ca_path = tls_hub
    room = RoomFactory(name="Kitchen")
    trusted = DeviceFactory(home=room.home, secret=SECRET)
    LightFactory(room=room, name="Ceiling", device=trusted)
    flash = tmp_path / trusted.device_id
    flash.mkdir()
    (flash / config_module.CA_FILE).write_bytes(ca_path.read_bytes())
    simulated = boot(devices, tmp_path, hub_url, trusted)
    wait_for(lambda: online(trusted), 15, "the device over wss")
    # The hub marks it online at its hello; the device's own status follows at the welcome.
    wait_for(lambda: simulated.control("hub")["url"] == hub_url, 5, "the device's hub status")
    # Another device trusts a different CA: the hub's certificate is refused, nothing is sent.
    stranger = DeviceFactory(home=room.home, secret=SECRET)
    other_flash = tmp_path / stranger.device_id
    other_flash.mkdir()
    other_ca, _, _ = make_ca(tmp_path, "other-ca")
    (other_flash / config_module.CA_FILE).write_bytes(other_ca.read_bytes())
    refused = boot(devices, tmp_path, hub_url, stranger)
    wait_for(
        lambda: "certificate" in refused.output(),
        10,
        "the TLS refusal",
    )
    assert not online(stranger)
