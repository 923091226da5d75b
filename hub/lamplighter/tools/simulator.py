"""The device simulator (CPython only): runs one or many firmware Devices in one asyncio loop.

`lamplighter device --config FILE` or `lamplighter device --hub URL --device-id ID ...` end here.
Each device gets its own flash folder <data-dir>/devices/<device_id>/ and its own web port.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sys

from lamplighter.firmware import config as config_module
from lamplighter.firmware import log as log_module
from lamplighter.firmware import protocol
from lamplighter.firmware.app import Device
from lamplighter.firmware.hal.host import HostHal
from lamplighter.firmware.storage import write_json

SECRET_ENV = "LAMPLIGHTER_DEVICE_SECRET"  # noqa: S105 - a variable name
DATA_DIR_ENV = "LAMPLIGHTER_DATA_DIR"
FIRST_PIN = 2
LOG_LEVELS = {"debug": log_module.DEBUG, "info": log_module.INFO, "warning": log_module.WARNING}


def light_config(room, light, kind, pin):
    """A config light of this kind with its outputs on pins from pin on; and the next free pin."""
    names = config_module.channels(kind)
    if names is None:
        return {"room": room, "light": light, "kind": kind, "pin": pin}, pin + 1
    pins = {}
    for name in names:
        pins[name] = pin
        pin += 1
    return {"room": room, "light": light, "kind": kind, "pins": pins}, pin


class _LightArgument(argparse.Action):
    """--room R --light L pairs, or --light "Room/Light", kept in order; ":kind" may follow."""

    def __call__(self, parser, namespace, value, option_string=None):
        if option_string == "--room":
            namespace.current_room = value
            return
        kind = protocol.KIND_ONOFF
        if ":" in value and value.rsplit(":", 1)[1] in protocol.LIGHT_KINDS:
            value, kind = value.rsplit(":", 1)
        if "/" in value:
            room, light = value.split("/", 1)
        else:
            room, light = namespace.current_room, value
        if not room or not light:
            parser.error("--light needs a room: --room R --light L, or --light Room/Light")
        namespace.lights.append((room, light, kind))


# Ports handed out by free_port in this process: each once, even before its server binds it.
_handed_out: set[int] = set()
FIRST_CHOSEN_PORT = 10000


def _ephemeral_ports_start():
    """Where the kernel's range for outgoing connections' local ports starts (Linux), else 32768."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host="127.0.0.1"):
    """A TCP port nobody listens on, for a server that binds it a little later.

    Chosen below the kernel's ephemeral range: a port from that range can be taken by any
    outgoing connection (a device's own socket to its hub) between this check and the bind,
    and the device's web server then fails to start. Never the same port twice in one
    process; other processes draw on their own, from about 22,000 ports.
    """
    end = _ephemeral_ports_start()
    for _ in range(100):
        if end - FIRST_CHOSEN_PORT < 1000:
            # An unusual range leaves no room below it: the kernel chooses, and the race
            # with outgoing connections is back (rare, and the device then says it cannot listen).
            port = 0
        else:
            port = random.randrange(FIRST_CHOSEN_PORT, end)
            if port in _handed_out:
                continue
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            port = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise OSError("no free port found on " + host)


def build_parser():
    """The command-line flags."""
    parser = argparse.ArgumentParser(
        prog="lamplighter device",
        description="Run simulated Lamplighter devices (the firmware on CPython).",
        allow_abbrev=False,  # "--secret x" must not pass as --secret-file
    )
    parser.add_argument("--config", help="JSON file: one device config, or a list of them")
    parser.add_argument("--data-dir", help="state folder (default $LAMPLIGHTER_DATA_DIR or ./var)")
    parser.add_argument("--hub", action="append", default=[], help="hub URL; repeat for fallbacks, in order")
    parser.add_argument("--device-id", help="device id (single device)")
    parser.add_argument("--secret-file", help="file holding the device secret (or set " + SECRET_ENV + ")")
    parser.add_argument("--name", help="device name (default: the id)")
    parser.add_argument("--host", default="127.0.0.1", help="web server address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="web server port (default: a free one)")
    parser.add_argument("--lan-url", help="URL the hub should use for this device's web server")
    parser.add_argument("--transport", choices=config_module.TRANSPORTS, default="websocket")
    parser.add_argument("--poll-interval", type=float, default=config_module.DEFAULT_POLL_INTERVAL)
    parser.add_argument("--room", action=_LightArgument, help="room of the --light flags that follow")
    parser.add_argument(
        "--light",
        action=_LightArgument,
        help="a light: Room/Light, or a name after --room; :dimmable, :tunable_white or :rgb for its kind",
    )
    parser.add_argument("--log-level", choices=sorted(LOG_LEVELS), default="info")
    parser.add_argument(
        "--provision",
        action="store_true",
        help="an unconfigured device: serve its setup page (pairing code) on --host/--port, then run",
    )
    parser.add_argument("--setup-timeout", type=float, default=600, help="seconds the setup page stays open")
    parser.add_argument(
        "--runtime",
        choices=("cpython", "micropython"),
        default="cpython",
        help="cpython: the firmware in this process; micropython: the compiled bundle on MicroPython's unix port",
    )
    parser.set_defaults(lights=[], current_room=None)
    return parser


def _read_secret(args, parser):
    if args.secret_file:
        try:
            with open(args.secret_file) as handle:
                secret = handle.read().strip()
        except OSError as error:
            parser.error("cannot read --secret-file: " + str(error))
    else:
        secret = os.environ.get(SECRET_ENV, "").strip()
    if not secret:
        parser.error("a device secret is needed: --secret-file FILE or " + SECRET_ENV)
    return secret


def configs_from_args(args, parser):
    """The raw device configs the flags describe (not yet validated)."""
    if args.config:
        try:
            with open(args.config) as handle:
                raw = json.load(handle)
        except (OSError, ValueError) as error:
            parser.error("cannot read --config " + args.config + ": " + str(error))
        return raw if isinstance(raw, list) else [raw]
    if not args.device_id:
        parser.error("give --config FILE, or --device-id with --hub and a secret")
    raw = {
        "device_id": args.device_id,
        "secret": _read_secret(args, parser),
        "name": args.name or args.device_id,
        "board": "host",
        "hubs": args.hub,
        "transport": args.transport,
        "poll_interval": args.poll_interval,
        "web": {"host": args.host, "port": args.port if args.port is not None else 0},
        "lights": [],
    }
    pin = FIRST_PIN
    for room, light, kind in args.lights:
        item, pin = light_config(room, light, kind, pin)
        raw["lights"].append(item)
    if args.lan_url:
        raw["lan_url"] = args.lan_url
    return [raw]


def prepare_device(raw, data_dir):
    """Validate one config, give it a port and lan_url, write it to its flash folder; return the config."""
    if isinstance(raw, dict) and isinstance(raw.get("web"), dict) and not raw["web"].get("port"):
        raw = dict(raw, web=dict(raw["web"], port=free_port()))
    elif isinstance(raw, dict) and "web" not in raw:
        raw = dict(raw, web={"host": "127.0.0.1", "port": free_port()})
    config = config_module.validate(raw)
    if not config["lan_url"]:
        host = config["web"]["host"]
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a comparison, nothing binds
        config["lan_url"] = "http://" + host + ":" + str(config["web"]["port"])
    flash = os.path.join(data_dir, "devices", config["device_id"])
    os.makedirs(flash, mode=0o700, exist_ok=True)
    path = os.path.join(flash, config_module.CONFIG_FILE)
    # The file holds the secret: create it private before anything is written.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    write_json(path, config)
    os.chmod(path, 0o600)
    return config, flash


async def run_devices(devices):
    """Run every device until SIGINT/SIGTERM (or one fails to start); return the exit code."""
    loop = asyncio.get_running_loop()
    stopping = []

    def stop_all():
        """Ask every device to stop."""
        stopping.append(True)
        for device in devices:
            device.stop()

    async def run_rebooting(index):
        """Run one device; a restart it asks for (after an OTA update) is a reboot on the same flash."""
        while True:
            device = devices[index]
            await device.run()
            if stopping or not device.restart_requested:
                return
            hal = HostHal(device.hal.flash_root)
            level = device.log.level
            devices[index] = Device(
                hal, device.config, log_module.Logger(device.config["device_id"], hal, level)
            )

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop_all)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals on this platform
    pending = {asyncio.create_task(run_rebooting(index)) for index in range(len(devices))}
    failed = False
    try:
        while pending:
            # As soon as one fails (its web server cannot listen), the others are stopped too.
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                error = task.exception()
                if isinstance(error, OSError):
                    failed = True
                    stop_all()
                elif error is not None:
                    stop_all()
                    await asyncio.gather(*pending, return_exceptions=True)
                    raise error
    except asyncio.CancelledError:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise
    return 1 if failed else 0


async def provision_and_run(flash, host, port, setup_timeout, level):
    """The board's boot path on the host: config on flash, else the setup page until paired; then run."""
    from lamplighter.firmware.app import provision

    hal = HostHal(flash)
    notes: list[str] = []
    try:
        config = config_module.load(flash, notes)
    except config_module.ConfigError:
        logger = log_module.Logger("setup", hal, level)
        print("setup page: http://" + host + ":" + str(port) + "/", flush=True)
        config = await provision(hal, logger, "host", host, port, setup_timeout)
        if config is None:
            print("setup page closed without pairing", flush=True)
            return 1
        config["lan_url"] = "http://" + host + ":" + str(port)
        config_module.save(flash, config)
    device = Device(hal, config, log_module.Logger(config["device_id"], hal, level))
    for note in notes:
        device.log.warning(note)
    print("device " + config["device_id"] + ": " + str(config["lan_url"]), flush=True)
    return await run_devices([device])


def _run_micropython(parser, data_dir, flashes, level, setup=None):
    """Each device as its own MicroPython unix-port process on the compiled bundle (CPython launcher)."""
    from pathlib import Path

    from lamplighter.tools.firmware_bundle import BundleError
    from lamplighter.tools.micropython_devices import prepare_runtime, run_devices

    try:
        runtime = prepare_runtime(Path(data_dir) / "micropython")
    except BundleError as error:
        parser.error(str(error))
    try:
        return asyncio.run(run_devices(runtime, [Path(flash) for flash in flashes], level, setup))
    except KeyboardInterrupt:
        return 0


def main(argv=None):
    """Parse flags, prepare each device's flash folder, and run them all; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = args.data_dir or os.environ.get(DATA_DIR_ENV) or "var"
    if args.provision:
        flash = os.path.join(data_dir, "devices", args.name or "new-device")
        os.makedirs(flash, mode=0o700, exist_ok=True)
        port = args.port or free_port(args.host)
        if args.runtime == "micropython":
            setup = (args.host, port, args.setup_timeout)
            return _run_micropython(parser, data_dir, [flash], LOG_LEVELS[args.log_level], setup)
        try:
            return asyncio.run(
                provision_and_run(flash, args.host, port, args.setup_timeout, LOG_LEVELS[args.log_level])
            )
        except KeyboardInterrupt:
            return 0
    devices = []
    flashes = []
    seen = set()
    for raw in configs_from_args(args, parser):
        try:
            config, flash = prepare_device(raw, data_dir)
        except config_module.ConfigError as error:
            name = raw.get("device_id") if isinstance(raw, dict) else None
            parser.error("device " + str(name or "?") + ": " + str(error))
        if config["device_id"] in seen:
            parser.error("device " + config["device_id"] + " is listed twice")
        seen.add(config["device_id"])
        flashes.append(flash)
        print("device " + config["device_id"] + ": " + config["lan_url"], flush=True)
        if args.runtime == "micropython":
            continue
        hal = HostHal(flash)
        logger = log_module.Logger(config["device_id"], hal, LOG_LEVELS[args.log_level])
        devices.append(Device(hal, config, logger))
    if not flashes:
        parser.error("no device to run")
    if args.runtime == "micropython":
        return _run_micropython(parser, data_dir, flashes, LOG_LEVELS[args.log_level])
    try:
        return asyncio.run(run_devices(devices))
    except KeyboardInterrupt:
        return 0
