"""`make bench-ota`: one firmware image to 50 simulated devices at once (issue 4).

The hub runs as its own process (`lamplighter serve`: SQLite, in-memory channel layer, one
worker) and the 50 devices in another (`lamplighter device`, the real firmware on CPython),
all on loopback. Two rounds on the same hub, a 0.5 MB then a 1.5 MB image, pulled over the
WebSocket offer + HTTP Range download path. Prints total time, per-device throughput and the
hub's resident memory: its peak over its baseline must not grow with image size x devices
(50 x 1 MB more image would be 50 MB more if the hub buffered it).

`python bench/ota_bench.py --devices 10 --sizes 200000` is a quick run.
"""

import argparse
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lamplighter.tools.simulator import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "bench-ota-device-secret"  # noqa: S105 - a benchmark's throwaway credential


def say(text: str) -> None:
    """Print at once (make shows it live)."""
    print(text, flush=True)


def rss_kb(pid: int) -> int:
    """Resident memory of a process, in KB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler:
    """Samples a process's RSS every 20 ms in a thread; peak() is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.highest, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.highest = max(self.highest, rss_kb(self.pid))
            time.sleep(0.02)

    def peak(self) -> int:
        """Stop sampling; the peak RSS in KB."""
        self._stop.set()
        self._thread.join(2)
        return self.highest


def image(size: int, seed: int) -> bytes:
    """A deterministic image of this size."""
    block = hashlib.sha256(str(seed).encode()).digest() * 4096
    return (block * (size // len(block) + 1))[:size]


def wait_until_serving(port: int, hub: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Return once the hub accepts connections on the port; exit with its log if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise SystemExit("the hub exited:\n" + log.read_text(errors="replace")[-2000:])
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise SystemExit(
        f"the hub did not listen within {timeout:.0f} s:\n" + log.read_text(errors="replace")[-2000:]
    )


def main() -> int:
    """Run the benchmark; 0 when every device confirmed every update."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--sizes", default="500000,1500000", help="image sizes in bytes, one round each")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="lamplighter-bench-ota-"))
    env = dict(
        os.environ,
        LAMPLIGHTER_DATA_DIR=str(data_dir),
        LAMPLIGHTER_OTA_TICK="0.2",
        LAMPLIGHTER_LOG_LEVEL="WARNING",
        LAMPLIGHTER_BACKUP_INTERVAL="0",  # no scheduled backup in the middle of a measurement
        DJANGO_SETTINGS_MODULE="lamplighter.settings",
    )
    os.environ.update(env)
    sys.path[:0] = [str(ROOT / "hub"), str(ROOT)]
    subprocess.run([BIN / "lamplighter", "migrate", "-v", "0"], env=env, check=True)

    import django

    django.setup()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from lamplighter.devices.services import device_register
    from lamplighter.homes.services import home_create
    from lamplighter.ota import services, signing
    from lamplighter.ota.models import Job

    key = Ed25519PrivateKey.generate()
    public_hex = signing.public_key_hex(key.public_key())
    from django.contrib.auth.models import User

    owner = User.objects.create_user("bench-owner")
    home = home_create(name="Bench", owner=owner)
    devices, configs = [], []
    for index in range(args.devices):
        device, secret = device_register(home=home, name=f"bench-{index:02d}")
        devices.append(device)
        flash = data_dir / "devices" / device.device_id
        flash.mkdir(parents=True)
        (flash / "ota_key.pub").write_text(public_hex)
        configs.append(
            {
                "device_id": device.device_id,
                "secret": secret,
                "hubs": [],
                "web": {"host": "127.0.0.1", "port": 0},
                "lights": [],
            }
        )
    port = free_port()
    for config in configs:
        config["hubs"] = [f"http://127.0.0.1:{port}"]
    config_file = data_dir / "devices.json"
    config_file.write_text(json.dumps(configs))

    hub = subprocess.Popen(  # noqa: S603 - our own console script
        [BIN / "lamplighter", "serve", "--port", str(port)],
        env=env,
        stdout=(data_dir / "hub.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    # The fleet starts once the hub answers: devices that find no hub fall back to polling for a
    # while (hub/lamplighter/firmware/hub_client.py), which this benchmark of the socket path must not wait out.
    wait_until_serving(port, hub, data_dir / "hub.log")
    fleet = subprocess.Popen(  # noqa: S603
        [BIN / "lamplighter", "device", "--config", str(config_file), "--log-level", "warning"],
        env=env,
        stdout=(data_dir / "devices.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    ok = True
    try:
        deadline = time.monotonic() + 60
        from lamplighter.devices.models import Device

        while Device.objects.filter(home=home, connection="websocket").count() < args.devices:
            if time.monotonic() > deadline:
                connected = Device.objects.filter(home=home, connection="websocket").count()
                logs = "".join(
                    f"\n--- {name} (last lines) ---\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                    for name, log in (("hub", data_dir / "hub.log"), ("devices", data_dir / "devices.log"))
                )
                raise SystemExit(f"{connected} of {args.devices} devices connected within 60 s{logs}")
            time.sleep(0.2)
        time.sleep(1)
        say(f"OTA benchmark: {args.devices} devices, hub pid {hub.pid}, data in {data_dir}")
        say(f"hub RSS with {args.devices} devices connected: {rss_kb(hub.pid) / 1024:.1f} MB")
        rows = []
        # Round 0 warms the hub up (imports, caches, connection pools) and is not reported.
        for round_index, size in enumerate([64 * 1024, *sizes]):
            data = image(size, round_index)
            version = f"0.{round_index + 2}.0"  # the factory image is 0.1.0
            manifest = ota_manifest(version, data)
            artifact = services.artifact_upload(
                chunks=[data[i : i + 65536] for i in range(0, len(data), 65536)],
                version=version,
                board="host",
                signature_file=json.dumps(signing.sign_manifest(key, manifest)),
            )
            baseline = rss_kb(hub.pid)
            sampler = RssSampler(hub.pid)
            started = time.monotonic()
            rollout = services.rollout_create(
                artifact=artifact, devices=devices, batch_size=args.devices, delivery="pull", start=False
            )
            while True:
                states = list(Job.objects.filter(rollout=rollout).values_list("state", flat=True))
                if all(state in ("confirmed", "failed", "rolled_back", "canceled") for state in states):
                    break
                if time.monotonic() - started > args.timeout:
                    break
                time.sleep(0.1)
            total = time.monotonic() - started
            peak = sampler.peak()
            jobs = list(Job.objects.filter(rollout=rollout))
            confirmed = sum(1 for job in jobs if job.state == "confirmed")
            ok = ok and confirmed == len(jobs)
            per_device = sorted(
                (job.finished_at - job.started_at).total_seconds()
                for job in jobs
                if job.finished_at and job.started_at
            )
            median = per_device[len(per_device) // 2] if per_device else float("nan")
            row = {
                "size_mb": size / 1e6,
                "confirmed": f"{confirmed}/{len(jobs)}",
                "total_s": total,
                "median_device_s": median,
                "per_device_mb_s": size / 1e6 / median if median else 0,
                "aggregate_mb_s": size * confirmed / 1e6 / total,
                "baseline_mb": baseline / 1024,
                "peak_mb": peak / 1024,
                "growth_mb": (peak - baseline) / 1024,
            }
            if round_index == 0:
                say(f"  warm-up round ({size // 1024} KB): {row['confirmed']} confirmed in {total:.2f} s")
                continue
            rows.append(row)
            say(
                f"  {row['size_mb']:.1f} MB image: {row['confirmed']} confirmed in {total:.2f} s; "
                f"per device (offer to confirmed, median) {median:.2f} s = {row['per_device_mb_s']:.2f} MB/s; "
                f"aggregate {row['aggregate_mb_s']:.1f} MB/s; hub RSS {row['baseline_mb']:.1f} -> peak "
                f"{row['peak_mb']:.1f} MB (+{row['growth_mb']:.1f} MB)"
            )
        if len(rows) >= 2:
            extra_image = (sizes[-1] - sizes[0]) * args.devices / 1e6
            difference = rows[-1]["growth_mb"] - rows[0]["growth_mb"]
            say(
                f"hub peak growth, {rows[-1]['size_mb']:.1f} MB vs {rows[0]['size_mb']:.1f} MB image: "
                f"{difference:+.1f} MB (buffering the images would add ~{extra_image:.0f} MB)"
            )
            ok = ok and difference < extra_image / 4
    finally:
        fleet.terminate()
        hub.terminate()
        for process in (fleet, hub):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    say("OTA benchmark: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def ota_manifest(version: str, data: bytes) -> str:
    """The manifest of a host image."""
    from lamplighter.firmware import ota

    return ota.build_manifest(version, "host", len(data), hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    sys.exit(main())
