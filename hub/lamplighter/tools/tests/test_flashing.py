"""`lamplighter flash` against a board stand-in (the unix port on a pty, the real mpremote) and a real hub.

The stand-in (firmware/tests/board_standin.py) boots what a board boots: boot.py, then the
main.py that `lamplighter flash` copied, unchanged, with the application from its filesystem or
from the ROMFS partition the command wrote.
"""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.cli import main as cli
from lamplighter.devices.models import Device
from lamplighter.firmware import protocol
from lamplighter.firmware.tests.board_standin import PLAIN_ESP32_HEAP, PSRAM_HEAP, BoardStandin
from lamplighter.infra import lan_push
from lamplighter.lights.models import Light
from lamplighter.tools import flashing
from lamplighter.tools.firmware_bundle import FIRMWARE_DIR
from lamplighter.tools.simulator import free_port
from simulated import wait_for

SECRET = "flash-test-device-secret-0123"  # noqa: S105 - test fixture
ROMFS_PARTITION = 128 * 1024  # docs/firmware.md's table: romfs, 0x20000
JOIN = 90.0


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[Any]:
    boards: list[BoardStandin] = []

    def make(heap: int = PSRAM_HEAP, romfs_size: int | None = None) -> BoardStandin:
        board = BoardStandin(tmp_path / f"board{len(boards)}", heap=heap, romfs_size=romfs_size).start()
        boards.append(board)
        return board

    yield make
    for board in boards:
        board.stop()


@pytest.fixture
def home(live_hub: LiveHub) -> tuple:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    device = DeviceFactory(home=room.home, secret=SECRET)
    light = LightFactory(room=room, name="Ceiling", device=device)
    return owner, device, light


def write_config(path: Path, hub: LiveHub, device: Device, web_port: int, **changes: Any) -> Path:
    config = {
        "board": "esp32",
        "device_id": device.device_id,
        "secret": SECRET,
        "wifi": {"ssid": "home-network", "password": "wifi-password-1", "power_save": False},
        "hubs": [hub.url],
        "lan_url": f"http://127.0.0.1:{web_port}",
        "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2, "button": 39}],
        "web": {"host": "127.0.0.1", "port": web_port},
        **changes,
    }
    path.write_text(json.dumps(config))
    return path


def flash_command(board: BoardStandin, config: Path | None) -> subprocess.CompletedProcess[str]:
    """`lamplighter flash` as a user runs it, in a process of its own (pyserial waits with select(),
    which takes no descriptor numbered above 1024, and a long test run holds more than that)."""
    args = [sys.executable, "-m", "lamplighter.cli", "flash", board.port]
    if config is not None:
        args += ["--config", str(config)]
    return subprocess.run(args, capture_output=True, text=True, timeout=JOIN + 60, check=False)


def run_flash(board: BoardStandin, config: Path | None) -> str:
    """What `lamplighter flash` said at the end, once it exited 0."""
    done = flash_command(board, config)
    if done.returncode != 0:
        raise AssertionError(f"{done.stderr}\n{done.stdout}\n--- board ---\n{board.text()[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def light_on(url: str, device: Device) -> bool:
    status = httpx.get(url + "/status", auth=(device.device_id, SECRET), timeout=5).json()
    return status["lights"][0]["on"]


def follows_toggle_and_lan_push(hub: LiveHub, owner: Any, device: Device, light: Light, url: str) -> None:
    wait_for(lambda: Device.objects.get(pk=device.pk).connection == "websocket", 20, "the WebSocket")
    with api_client(hub, owner) as client:
        response = client.post(f"/api/v1/lights/{light.pk}/state", json={"on": True})
        assert response.status_code == 202
        version = response.json()["desired_version"]

    def reported() -> bool:
        light.refresh_from_db()
        return (light.reported_on, light.reported_version) == (True, version)

    wait_for(reported, 20, "the board's report of the toggle")
    assert light_on(url, device) is True
    # The hub's LAN push, as it sends one to a device without a WebSocket (its desired state
    # stored first, without the WebSocket delivery): the board applies it and reports it back.
    known = Device.objects.get(pk=device.pk)
    assert known.lan_url == url
    Light.objects.filter(pk=light.pk).update(desired_on=False, desired_version=version + 1)
    entry = protocol.light_entry("Kitchen", "Ceiling", protocol.light_state(False), version + 1)
    assert asyncio.run(lan_push.push(lan_url=known.lan_url, lan_token=known.lan_token, entries=[entry]))
    assert light_on(url, device) is False

    def reported_off() -> bool:
        light.refresh_from_db()
        return (light.reported_on, light.reported_version) == (False, version + 1)

    wait_for(reported_off, 20, "the board's report of the LAN push")


def app_files(board: BoardStandin) -> set[str]:
    return {path.relative_to(board.flash).as_posix() for path in board.flash.rglob("*") if path.is_file()}


@pytest.mark.django_db(transaction=True)
def test_psram_board_runs_its_own_main_py_and_joins_the_hub(
    live_hub: LiveHub, home: tuple, standin: Any, tmp_path: Path
) -> None:
    owner, device, light = home
    board = standin(heap=PSRAM_HEAP)
    port = free_port()
    said = run_flash(board, write_config(tmp_path / "config.json", live_hub, device, port))
    assert said.startswith("the device joined the hub at " + live_hub.url)
    # The board's own main.py, unchanged, with the application on its filesystem.
    assert (board.flash / "main.py").read_bytes() == (FIRMWARE_DIR / "main.py").read_bytes()
    assert "firmware/app.mpy" in app_files(board)
    follows_toggle_and_lan_push(live_hub, owner, device, light, f"http://127.0.0.1:{port}")


@pytest.mark.django_db(transaction=True)
def test_plain_esp32_with_a_romfs_partition_runs_from_the_image(
    live_hub: LiveHub, home: tuple, standin: Any, tmp_path: Path
) -> None:
    owner, device, light = home
    board = standin(heap=PLAIN_ESP32_HEAP, romfs_size=ROMFS_PARTITION)
    (board.flash / "firmware").mkdir()
    (board.flash / "firmware" / "app.mpy").write_bytes(b"stale copy from an earlier install")
    port = free_port()
    said = run_flash(board, write_config(tmp_path / "config.json", live_hub, device, port))
    assert said.startswith("the device joined the hub")
    assert board.partition.read_bytes().startswith(b"\xd2\xcd\x31")  # the ROMFS image
    assert not (board.flash / "firmware").exists()  # the stale copy would shadow /rom
    assert app_files(board) >= {"boot.py", "main.py", "config.json"}
    assert not any(name.endswith(".mpy") for name in app_files(board))
    follows_toggle_and_lan_push(live_hub, owner, device, light, f"http://127.0.0.1:{port}")


def test_plain_esp32_without_romfs_is_refused_with_nothing_copied(standin: Any, tmp_path: Path) -> None:
    board = standin(heap=PLAIN_ESP32_HEAP)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "board": "esp32",
                "device_id": "dev-refused01",
                "secret": SECRET,
                "wifi": {"ssid": "home-network", "password": "wifi-password-1"},
                "hubs": [f"http://127.0.0.1:{free_port()}"],  # nobody listens: lights not checked
                "lights": [{"room": "Kitchen", "light": "Ceiling", "pin": 2}],
            }
        )
    )
    refused = flash_command(board, config)
    assert refused.returncode == 1 and "ROMFS" in refused.stderr
    assert "Nothing was copied" in refused.stderr
    assert "Without PSRAM: the application in ROMFS" in refused.stderr
    assert app_files(board) == set()


@pytest.mark.django_db(transaction=True)
def test_a_second_flash_keeps_the_config_the_secret_and_the_state(
    live_hub: LiveHub, home: tuple, standin: Any, tmp_path: Path
) -> None:
    _, device, _ = home
    board = standin(heap=PSRAM_HEAP)
    run_flash(board, write_config(tmp_path / "config.json", live_hub, device, free_port()))
    kept = {name: (board.flash / name).read_bytes() for name in ("config.json", "lan_token")}
    (board.flash / "slot1.bin").write_bytes(b"an update slot")
    said = run_flash(board, None)
    assert said.startswith("the device joined the hub")
    for name, content in kept.items():
        assert (board.flash / name).read_bytes() == content, name
    assert (board.flash / "slot1.bin").read_bytes() == b"an update slot"
    assert json.loads(kept["config.json"])["secret"] == SECRET


def test_without_a_config_it_shows_the_setup_network(standin: Any) -> None:
    board = standin(heap=PSRAM_HEAP)
    said = run_flash(board, None)
    assert said.startswith("the device waits to be paired: join Wi-Fi lamplighter-")
    assert " with password " in said


@pytest.mark.django_db(transaction=True)
def test_config_lights_are_checked_against_the_hub(live_hub: LiveHub, home: tuple, tmp_path: Path) -> None:
    _, device, _ = home
    wrong = [{"room": "Kitchen", "light": "Lamp", "pin": 2}]
    config = write_config(tmp_path / "config.json", live_hub, device, free_port(), lights=wrong)
    with pytest.raises(flashing.FlashError, match="not the device's on the hub: Kitchen/Lamp"):
        flashing.check_config(config)
    bad_secret = write_config(
        tmp_path / "bad.json", live_hub, device, free_port(), secret="not-the-secret-0000"
    )
    with pytest.raises(flashing.FlashError, match="refuses this device_id and secret"):
        flashing.check_config(bad_secret)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        (json.dumps({"device_id": "dev-x", "hubs": ["http://127.0.0.1:1"], "lights": []}), "secret"),
        (
            json.dumps(
                {
                    "board": "esp32",
                    "device_id": "dev-x",
                    "secret": SECRET,
                    "wifi": {"ssid": "<your Wi-Fi network>", "password": "<your Wi-Fi password>"},
                    "hubs": ["http://127.0.0.1:1"],
                    "lights": [],
                }
            ),
            "Wi-Fi placeholders",
        ),
    ],
)
def test_a_bad_config_is_refused_before_the_board_is_touched(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(content)
    # The port does not exist either: the config is checked first.
    assert cli.main(["flash", "/dev/does-not-exist", "--config", str(config)]) == 1
    assert message in capsys.readouterr().err


def test_bad_arguments_are_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["flash"])
    assert exited.value.code == 2
    assert "PORT" in capsys.readouterr().err
    assert cli.main(["flash", str(tmp_path / "ttyNONE")]) == 1
    assert "no such serial port" in capsys.readouterr().err
