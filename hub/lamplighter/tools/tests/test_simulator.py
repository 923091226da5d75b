"""The simulator command: flags, config files, flash folders, clean stop on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from lamplighter.firmware import config as config_module
from lamplighter.firmware.tests.conftest import SECRET, free_port
from lamplighter.tools import simulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse(argv):
    parser = simulator.build_parser()
    return parser, parser.parse_args(argv)


def test_room_and_light_flags_pair_in_order(monkeypatch):
    monkeypatch.setenv(simulator.SECRET_ENV, SECRET)
    parser, args = parse(
        [
            "--device-id",
            "dev-1",
            "--hub",
            "http://127.0.0.1:8000",
            "--room",
            "Kitchen",
            "--light",
            "Ceiling",
            "--light",
            "Counter",
            "--light",
            "Hall/Lamp",
            "--port",
            "8123",
        ]
    )
    [raw] = simulator.configs_from_args(args, parser)
    assert [(item["room"], item["light"], item["pin"]) for item in raw["lights"]] == [
        ("Kitchen", "Ceiling", 2),
        ("Kitchen", "Counter", 3),
        ("Hall", "Lamp", 4),
    ]
    assert raw["secret"] == SECRET and raw["web"]["port"] == 8123


def test_light_flags_take_a_kind_and_get_a_pin_per_channel(monkeypatch):
    monkeypatch.setenv(simulator.SECRET_ENV, SECRET)
    parser, args = parse(
        ["--device-id", "dev-1", "--hub", "http://127.0.0.1:8000"]
        + ["--light", "Hall/Lamp", "--light", "Hall/Strip:dimmable", "--light", "Bed/Reading:tunable_white"]
        + ["--light", "Den/Shelf:rgb", "--light", "Den/Odd:name", "--port", "8123"]
    )
    [raw] = simulator.configs_from_args(args, parser)
    lights = config_module.validate(raw)["lights"]
    assert [(item["light"], item["kind"]) for item in lights] == [
        ("Lamp", "onoff"),
        ("Strip", "dimmable"),
        ("Reading", "tunable_white"),
        ("Shelf", "rgb"),
        ("Odd:name", "onoff"),
    ]
    assert [item["pin"] for item in lights[:2]] == [2, 3]
    assert lights[2]["pins"] == {"cold": 4, "warm": 5} and lights[2]["kelvin"] == [2700, 6500]
    assert lights[3]["pins"] == {"r": 6, "g": 7, "b": 8} and lights[4]["pin"] == 9


def test_secret_comes_from_a_file_never_a_flag(tmp_path, monkeypatch):
    monkeypatch.delenv(simulator.SECRET_ENV, raising=False)
    parser, args = parse(["--device-id", "dev-1"])
    with pytest.raises(SystemExit):
        simulator.configs_from_args(args, parser)
    with pytest.raises(SystemExit):
        parse(["--device-id", "dev-1", "--secret", "x"])
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    parser, args = parse(["--device-id", "dev-1", "--secret-file", str(secret_file)])
    assert simulator.configs_from_args(args, parser)[0]["secret"] == SECRET


def test_prepare_device_writes_a_private_config(tmp_path):
    config, flash = simulator.prepare_device(
        {"device_id": "dev-9", "secret": SECRET, "hubs": [], "web": {"host": "0.0.0.0"}},  # noqa: S104
        str(tmp_path),
    )
    assert flash == os.path.join(str(tmp_path), "devices", "dev-9")
    assert config["lan_url"] == "http://127.0.0.1:" + str(config["web"]["port"])
    path = os.path.join(flash, "config.json")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert json.load(open(path))["device_id"] == "dev-9"


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    config_file = tmp_path / "devices.json"
    config_file.write_text(json.dumps([{"device_id": "dev-1", "secret": SECRET, "hubs": ["gopher://x"]}]))
    with pytest.raises(SystemExit):
        simulator.main(["--config", str(config_file), "--data-dir", str(tmp_path)])
    error = capsys.readouterr().err
    assert "device dev-1: config: each hub must be an http" in error and SECRET not in error


def start_simulator(tmp_path, ports):
    """`lamplighter device --config` with one hubless device per port (dev-0, dev-1, ...)."""
    devices = [
        {
            "device_id": "dev-" + str(index),
            "secret": SECRET,
            "hubs": [],
            "web": {"host": "127.0.0.1", "port": port},
            "lights": [{"room": "Room", "light": "Light", "pin": 2}],
        }
        for index, port in enumerate(ports)
    ]
    config_file = tmp_path / "devices.json"
    config_file.write_text(json.dumps(devices))
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from lamplighter.tools.simulator import main; sys.exit(main(sys.argv[1:]))",
            "--config",
            str(config_file),
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_runs_several_devices_and_stops_on_sigterm(tmp_path):
    ports = [free_port(), free_port()]
    process = start_simulator(tmp_path, ports)
    try:
        for index, port in enumerate(ports):
            deadline = time.monotonic() + 10
            while True:
                try:
                    status = httpx.get(
                        "http://127.0.0.1:" + str(port) + "/status",
                        auth=("dev-" + str(index), SECRET),
                        timeout=1,
                    )
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "device did not start"
                    time.sleep(0.05)
            assert status.json()["device_id"] == "dev-" + str(index)
        assert os.path.exists(tmp_path / "devices" / "dev-1" / "lan_token")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and SECRET not in out + err


def test_a_device_whose_port_is_taken_stops_them_all(tmp_path):
    ports = [free_port(), free_port()]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[1]))  # the second device cannot listen
        taken.listen()
        process = start_simulator(tmp_path, ports)
        try:
            out, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 1
    assert "cannot listen on port " + str(ports[1]) in out + err
