"""pytest fixtures for the socket tests: run a real Device on a loopback port."""

import asyncio
import contextlib

import pytest

from lamplighter.tools.simulator import free_port

from .. import config as config_module
from ..app import Device
from ..hal.host import HostHal
from ..log import Logger

SECRET = "device-secret-for-tests"


def device_config(hubs=(), port=None, **changes):
    """A valid host device config on loopback."""
    port = port or free_port()
    raw = {
        "device_id": "dev-test",
        "secret": SECRET,
        "name": "Test device",
        "board": "host",
        "hubs": list(hubs),
        "web": {"host": "127.0.0.1", "port": port},
        "lan_url": "http://127.0.0.1:" + str(port),
        "poll_interval": 0.2,
        "lights": [
            {"room": "Kitchen", "light": "Ceiling", "pin": 2},
            {"room": "Hall", "light": "Lamp", "pin": 3},
        ],
    }
    raw.update(changes)
    return config_module.validate(raw)


async def wait_until(predicate, timeout=5.0, step=0.02):
    """Poll predicate until true; fail the test after timeout seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met within " + str(timeout) + " s")
        await asyncio.sleep(step)


async def wait_for_port(port, timeout=5.0):
    """Wait until something listens on the loopback port."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_device(flash, config, hub_options=None):
    """Start a Device (web server and hub link) and stop it cleanly afterwards."""
    hal = HostHal(str(flash))
    device = Device(hal, config, Logger(config["device_id"], hal, echo=False), hub_options)
    task = asyncio.create_task(device.run())
    try:
        await wait_for_port(config["web"]["port"])
        yield device
    finally:
        device.stop()
        await asyncio.wait_for(task, 5)


@pytest.fixture
def flash(tmp_path):
    """A device's flash folder."""
    folder = tmp_path / "flash"
    folder.mkdir()
    return folder
