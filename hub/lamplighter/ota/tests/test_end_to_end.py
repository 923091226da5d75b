"""OTA end to end: a real hub on loopback, the real firmware as simulated devices, real sockets.

Pull over the WebSocket and push on the LAN to several devices, a download cut and resumed
with a Range request, an image that never comes up rolled back, and every refusal landing in
the hub with its reason.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveHub, api_client
from factories import DeviceFactory, HomeFactory, LightFactory, RoomFactory, UserFactory
from lamplighter.devices.models import Device, DeviceLogLine
from lamplighter.lights.models import Light
from lamplighter.lights.services import light_create
from lamplighter.ota.models import Job
from lamplighter.ota.tests import helpers
from simulated import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "ota-end-to-end-secret"  # noqa: S105 - test fixture


@pytest.fixture(autouse=True)
def ota_settings(settings: Any, tmp_path: Path) -> None:
    settings.LAMPLIGHTER_FIRMWARE_DIR = tmp_path / "firmware"
    settings.LAMPLIGHTER_OTA_TICK = 0.2


@pytest.fixture
def started(start_device: Callable[..., Any]) -> Callable[..., Any]:
    return start_device


def make_home(count: int) -> tuple[Any, list[Device]]:
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Kitchen")
    devices = []
    for index in range(count):
        device = DeviceFactory(home=room.home, secret=SECRET)
        LightFactory(room=room, name=f"Light {index}", device=device)
        devices.append(device)
    return owner, devices


def boot(
    started: Callable[..., Any],
    tmp_path: Path,
    hub_url: str,
    device: Device,
    key: str = helpers.PUBLIC_KEY_HEX,
    **config: Any,
) -> Any:
    flash = tmp_path / device.device_id
    helpers.give_key(flash, key)
    lights = [{"room": "Kitchen", "light": light.name, "pin": 2} for light in device.lights.all()]
    return started(flash, device_id=device.device_id, secret=SECRET, hubs=[hub_url], lights=lights, **config)


def status(simulated: Any) -> dict:
    return httpx.get(
        simulated.url + "/status", auth=(simulated.config["device_id"], SECRET), timeout=5
    ).json()


def connected(device: Device, how: str = "websocket") -> bool:
    return Device.objects.get(pk=device.pk).connection == how


def test_pull_rollout_to_several_devices_in_batches(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path
) -> None:
    owner, devices = make_home(3)
    simulated = [boot(started, tmp_path, live_hub.url, device) for device in devices]
    for device in devices:
        wait_for(lambda device=device: connected(device), 10, "the WebSockets")
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(client, helpers.image(300_000), "0.2.0")
        rollout = helpers.start_rollout(
            client, artifact, [d.pk for d in devices], batch_size=2, delivery="pull"
        )
        jobs = wait_for(lambda: helpers.jobs_done(rollout), 30, "every job to end")
        assert {job.state for job in jobs} == {"confirmed"}, [(j.state, j.reason, j.detail) for j in jobs]
        assert {job.path for job in jobs} == {"pull"}
        assert sorted(job.batch for job in jobs) == [0, 0, 1]
        # The rollout moves on once the last job's transaction has committed: a moment later.
        wait_for(
            lambda: client.get(f"/api/v1/firmware/rollouts/{rollout}").json()["status"] == "finished",
            10,
            "the rollout to finish",
        )
    for sim, device in zip(simulated, devices, strict=True):
        wait_for(lambda sim=sim: status(sim)["firmware_version"] == "0.2.0", 10, "the new version")
        assert status(sim)["boot_slot"] == 1
        assert sim.boots == 2
        wait_for(
            lambda device=device: Device.objects.get(pk=device.pk).firmware_version == "0.2.0", 5, "hello"
        )


def test_an_update_lands_on_a_device_fading_its_lights(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path
) -> None:
    """The heaviest device: dimmable and colour lights (the PWM curve, the fade task), a fade
    running while the image downloads; on MicroPython that is all within a board's heap."""
    owner = UserFactory()
    room = RoomFactory(home=HomeFactory(owner=owner), name="Lounge")
    device = DeviceFactory(home=room.home, secret=SECRET)
    strip = light_create(room=room, name="Strip", kind="dimmable", device=device)
    light_create(room=room, name="Colour", kind="rgb", device=device)
    flash = tmp_path / device.device_id
    helpers.give_key(flash)
    simulated = started(
        flash,
        device_id=device.device_id,
        secret=SECRET,
        hubs=[live_hub.url],
        lights=[
            {"room": "Lounge", "light": "Strip", "kind": "dimmable", "pin": 2},
            {"room": "Lounge", "light": "Colour", "kind": "rgb", "pins": {"r": 3, "g": 4, "b": 5}},
        ],
    )
    wait_for(lambda: connected(device), 10, "the WebSocket")
    with api_client(live_hub, owner) as client:
        answer = client.post(
            f"/api/v1/lights/{strip.pk}/state", json={"on": True, "brightness": 200, "transition_ms": 60_000}
        )
        assert answer.status_code == 202, answer.text
        version = answer.json()["desired_version"]
        wait_for(lambda: Light.objects.get(pk=strip.pk).reported_version == version, 10, "the fade's start")
        wait_for(lambda: 0 < simulated.duty(2) < 65535, 10, "the fade under way")
        artifact = helpers.upload(client, helpers.image(300_000), "0.2.0")
        rollout = helpers.start_rollout(client, artifact, [device.pk], delivery="pull")
        jobs = wait_for(lambda: helpers.jobs_done(rollout), 30, "the job to end")
    assert [(job.state, job.path) for job in jobs] == [("confirmed", "pull")], [
        (j.reason, j.detail) for j in jobs
    ]
    wait_for(lambda: status(simulated)["firmware_version"] == "0.2.0", 10, "the new version")
    # After the reboot the light is where the fade was going.
    wait_for(
        lambda: simulated.light("Lounge", "Strip")["state"] == {"on": True, "brightness": 200},
        10,
        "the state",
    )


def test_push_rollout_on_the_lan(live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path) -> None:
    owner, devices = make_home(2)
    simulated = [
        boot(started, tmp_path, live_hub.url, d, transport="http", poll_interval=600, advertise_lan=True)
        for d in devices
    ]
    for device, sim in zip(devices, simulated, strict=True):
        wait_for(
            lambda device=device, sim=sim: Device.objects.get(pk=device.pk).lan_url == sim.url, 10, "hello"
        )
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(client, helpers.image(400_000), "0.2.0")
        rollout = helpers.start_rollout(client, artifact, [d.pk for d in devices])
        jobs = wait_for(lambda: helpers.jobs_done(rollout), 30, "every job to end")
    assert {(job.state, job.path) for job in jobs} == {("confirmed", "push")}, [
        (j.reason, j.detail) for j in jobs
    ]
    for sim in simulated:
        assert status(sim)["firmware_version"] == "0.2.0" and status(sim)["boot_slot"] == 1


def test_content_only_signatures_over_pull_and_push(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path
) -> None:
    """A `sign` without --version/--board: the hub asserts the uploaded version and board."""
    owner, devices = make_home(2)
    pulled = boot(started, tmp_path, live_hub.url, devices[0])
    pushed = boot(
        started, tmp_path, live_hub.url, devices[1], transport="http", poll_interval=600, advertise_lan=True
    )
    wait_for(lambda: connected(devices[0]), 10, "the WebSocket")
    wait_for(lambda: Device.objects.get(pk=devices[1].pk).lan_url == pushed.url, 10, "hello")
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(client, helpers.image(200_000), "0.2.0", content_only=True)
        pull = helpers.start_rollout(client, artifact, [devices[0].pk], delivery="pull")
        push = helpers.start_rollout(client, artifact, [devices[1].pk], delivery="push")
        jobs = wait_for(lambda: helpers.jobs_done(pull), 30, "the pull") + wait_for(
            lambda: helpers.jobs_done(push), 30, "the push"
        )
    assert [(job.state, job.path) for job in jobs] == [("confirmed", "pull"), ("confirmed", "push")], [
        (j.reason, j.detail) for j in jobs
    ]
    for sim in (pulled, pushed):
        assert status(sim)["firmware_version"] == "0.2.0" and status(sim)["boot_slot"] == 1


def test_an_image_that_does_not_come_up_is_rolled_back(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path
) -> None:
    owner, [device] = make_home(1)
    sim = boot(started, tmp_path, live_hub.url, device)
    wait_for(lambda: connected(device), 10, "the WebSocket")
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(client, helpers.image(50_000), "0.3.0", simulate_boot_failure=True)
        rollout = helpers.start_rollout(client, artifact, [device.pk])
        [job] = wait_for(lambda: helpers.jobs_done(rollout), 30, "the job to end")
        assert (job.state, job.reason) == ("rolled_back", "boot_failed")
        jobs = client.get(f"/api/v1/firmware/rollouts/{rollout}").json()["jobs"]
        assert jobs[0]["state"] == "rolled_back" and jobs[0]["reason"] == "boot_failed"
    assert sim.boots == 3  # the update, the trial that failed, the bootloader's way back
    assert status(sim)["firmware_version"] == "0.1.0" and status(sim)["boot_slot"] == 0
    assert job.boot_slot == 0


def test_a_cut_download_resumes_where_it_stopped(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path
) -> None:
    owner, [device] = make_home(1)
    proxy = helpers.CuttingProxy(live_hub.port, cut_after=200_000)
    try:
        sim = boot(started, tmp_path, proxy.url, device)
        sim.control("ota_retry_delay", 0.1)
        wait_for(lambda: connected(device), 10, "the WebSocket")
        size = 600_000
        with api_client(live_hub, owner) as client:
            artifact = helpers.upload(client, helpers.image(size), "0.2.0")
            rollout = helpers.start_rollout(client, artifact, [device.pk])
            [job] = wait_for(lambda: helpers.jobs_done(rollout), 30, "the job to end")
        assert job.state == "confirmed", (job.reason, job.detail)
        assert len(proxy.downloads) >= 2
        assert "Range" not in proxy.downloads[0]
        resumed_at = int(proxy.downloads[1].split("Range: bytes=")[1].split("-")[0])
        assert 0 < resumed_at <= 200_000
        assert proxy.served < size + 200_000 + 4096  # nothing was fetched twice
    finally:
        proxy.close()


REFUSALS = [
    # (what the artifact or the device gets wrong, expected reason)
    ({"board": "esp32"}, "wrong_board"),
    ({"version": "0.0.5"}, "downgrade"),
    ({"device_key": "00" * 32}, "bad_signature"),
    ({"tamper": "flip"}, "bad_hash"),
    ({"tamper": "truncate"}, "truncated"),
]


@pytest.mark.parametrize(("change", "reason"), REFUSALS)
def test_refusals_reach_the_hub_with_their_reason(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path, settings: Any, change: dict, reason: str
) -> None:
    owner, [device] = make_home(1)
    key = change.get("device_key", helpers.PUBLIC_KEY_HEX)
    sim = boot(started, tmp_path, live_hub.url, device, key=key)
    sim.control("ota_retry_delay", 0.05)
    wait_for(lambda: connected(device), 10, "the WebSocket")
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(
            client, helpers.image(100_000), change.get("version", "0.2.0"), change.get("board", "host")
        )
        stored = next(Path(settings.LAMPLIGHTER_FIRMWARE_DIR).glob(f"{artifact}-*.bin"))
        if change.get("tamper") == "flip":
            data = bytearray(stored.read_bytes())
            data[5000] ^= 0xFF
            stored.write_bytes(bytes(data))
        elif change.get("tamper") == "truncate":
            stored.write_bytes(stored.read_bytes()[:60_000])
        rollout = helpers.start_rollout(client, artifact, [device.pk])
        [job] = wait_for(lambda: helpers.jobs_done(rollout), 30, "the job to end")
        assert (job.state, job.reason) == ("failed", reason), job.detail
        page = client.get(f"/homes/{device.home_id}/firmware/")
    assert status(sim)["firmware_version"] == "0.1.0" and status(sim)["boot_slot"] == 0
    assert sim.boots == 1
    assert Job.objects.get(pk=job.pk).detail  # the device said why
    del page


@pytest.mark.parametrize("fault", ["memory", "error"])
def test_a_failing_transfer_resumes_and_the_update_lands(
    live_hub: LiveHub, started: Callable[..., Any], tmp_path: Path, fault: str
) -> None:
    """A MemoryError or an unexpected exception in the middle of a download: logged, resumed, confirmed."""
    owner, [device] = make_home(1)
    sim = boot(started, tmp_path, live_hub.url, device)
    sim.control("ota_retry_delay", 0.05)
    wait_for(lambda: connected(device), 10, "the WebSocket")
    sim.control("inject", "ota", fault)  # the first block the update receives
    with api_client(live_hub, owner) as client:
        artifact = helpers.upload(client, helpers.image(300_000), "0.2.0")
        rollout = helpers.start_rollout(client, artifact, [device.pk])
        [job] = wait_for(lambda: helpers.jobs_done(rollout), 30, "the job to end")
    assert job.state == "confirmed", (job.reason, job.detail)
    kind = "MemoryError" if fault == "memory" else "RuntimeError"
    wait_for(
        lambda: DeviceLogLine.objects.filter(
            device=device, text__contains=f"OTA transfer failed: {kind}"
        ).exists(),
        10,
        "the failure in the hub's device log",
    )
    assert status(sim)["firmware_version"] == "0.2.0" and sim.boots == 2
