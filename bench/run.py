"""`make bench`: every scenario of issue 5 and its baselines, in one run, on this machine.

Prints each figure as it comes and writes bench/results/LATEST.md. The hub runs as its own
process (`lamplighter serve`, the embedded default: SQLite, in-memory channel layer, one
worker) unless a scenario says otherwise; devices, dashboards, API and load clients run in
this process or in bench/loadgen.py. Baselines run in the same run, so ratios hold even on a
noisy machine. `python bench/run.py --quick` is a smaller run for trying the harness.
"""

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "hub"), str(Path(__file__).resolve().parents[1])]

import httpx  # noqa: E402
import websockets  # noqa: E402

from bench.http11 import Http11Connection  # noqa: E402
from bench.hubs import (  # noqa: E402
    REDIS_URL,
    ROOT,
    Database,
    Hub,
    free_port,
    machine,
    process_cpu_seconds,
    raise_fd_limit,
    summary_ms,
)
from bench.paths import report_lines as paths_report_lines  # noqa: E402
from bench.paths import scenario_paths  # noqa: E402
from bench.slider import report_lines as slider_report_lines  # noqa: E402
from bench.slider import scenario_slider  # noqa: E402
from lamplighter.infra import gc_tuning as collector  # noqa: E402
from lamplighter.tools.protocol_client import ProtocolDevice  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "LATEST.md"
SEED_POLL_INTERVAL = 5.0  # the seed's device polled /lights_status/ every 5 s
# The last commit before the one request path (issue 20): its hub answered health, the poll and
# a token's state call before Django; its figures are the ones this commit must hold.
BASELINE_COMMIT = "a792b02"


def say(text: str) -> None:
    """Print at once (make shows it live)."""
    print(text, flush=True)


# ---- baselines ---------------------------------------------------------------------------


async def echo_baseline(samples: int) -> dict[str, float]:
    """Round trip of a small message through a bare asyncio TCP echo server in another process."""
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--echo-server", str(port)])
    try:
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        message = b'{"type":"state.set","on":true}\n'
        times = []
        for i in range(samples + 100):
            started = time.perf_counter()
            writer.write(message)
            await reader.readline()
            if i >= 100:
                times.append(time.perf_counter() - started)
        writer.close()
        return summary_ms(times)
    finally:
        server.terminate()
        server.wait()


def run_echo_server(port: int) -> None:
    """The echo server process."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while line := await reader.readline():
            writer.write(line)

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def mqtt_baseline(samples: int) -> dict[str, float] | None:
    """Command/ack through the local Mosquitto: controller publishes a command, the device answers
    with its new state (QoS 0 both ways, TCP_NODELAY: paho's QoS 1 path adds ~40 ms of delayed
    ACK here, which would flatter the hub)."""
    import aiomqtt

    topic = f"bench/{random.randrange(1 << 30)}"
    try:
        async with (
            aiomqtt.Client("127.0.0.1", 1883, identifier=topic + "-device") as device,
            aiomqtt.Client("127.0.0.1", 1883, identifier=topic + "-controller") as controller,
        ):
            for client in (device, controller):
                raw = client._client.socket()  # paho's socket; Nagle off, as uvicorn does for the hub
                if raw is not None:
                    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await device.subscribe(topic + "/set", qos=0)
            await controller.subscribe(topic + "/state", qos=0)

            async def device_loop() -> None:
                async for message in device.messages:
                    await device.publish(topic + "/state", message.payload, qos=0)

            task = asyncio.create_task(device_loop())
            times = []
            await asyncio.sleep(0.2)
            for i in range(samples + 100):
                payload = json.dumps({"on": i % 2 == 0, "version": i})
                started = time.perf_counter()
                await controller.publish(topic + "/set", payload, qos=0)
                async for message in controller.messages:
                    if message.payload == payload.encode():
                        break
                if i >= 100:
                    times.append(time.perf_counter() - started)
            task.cancel()
            return summary_ms(times)
    except (aiomqtt.MqttError, OSError) as error:
        say(f"  MQTT baseline skipped: {error}")
        return None


# ---- the hub's paths ---------------------------------------------------------------------


class Dashboard:
    """A logged-in dashboard socket; resolves waiters when a light is confirmed in a state."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.waiters: dict[int, tuple[bool, asyncio.Future[float]]] = {}
        self.reader = asyncio.create_task(self.read())

    @classmethod
    async def open(cls, hub: Hub, seed: dict) -> "Dashboard":
        """Connect with the seeded owner's session."""
        socket = await websockets.connect(
            hub.ws_url + "/ws/dashboard/",
            additional_headers={"Cookie": seed["session_cookie"]},
            origin=websockets.Origin(hub.url),
            max_queue=None,
            compression=None,
        )
        return cls(socket)

    async def read(self) -> None:
        """Dispatch light.state events to waiters (a frame is one event or a list of them)."""
        async for raw in self.socket:
            now = time.perf_counter()
            frame = json.loads(raw)
            for event in frame if isinstance(frame, list) else [frame]:
                if event.get("type") != "light.state":
                    continue
                light = event["light"]
                waiter = self.waiters.get(light["id"])
                if (
                    waiter
                    and light["reported_on"] is waiter[0]
                    and not light["pending"]
                    and not waiter[1].done()
                ):
                    waiter[1].set_result(now)

    def expect(self, light_id: int, on: bool) -> "asyncio.Future[float]":
        """A future that resolves (with the receive time) when the light is confirmed `on`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters[light_id] = (on, future)
        return future

    async def close(self) -> None:
        """Close the socket."""
        self.reader.cancel()
        await self.socket.close()


def make_devices(
    hub: Hub, entries: list[dict], heartbeat: bool = True, on_applied: Any = None
) -> list[ProtocolDevice]:
    """Lightweight protocol clients for these seeded devices (not started)."""
    return [
        ProtocolDevice(
            e["device_id"],
            e["secret"],
            [(e["room"], e["light"])],
            [hub.ws_url],
            heartbeat=heartbeat,
            on_applied=on_applied,
        )
        for e in entries
    ]


async def connect_all(devices: list[ProtocolDevice], timeout: float) -> float:
    """Start every device at once; seconds until every one has its hub.welcome."""
    started = time.perf_counter()
    for device in devices:
        device.start()
    await asyncio.wait_for(asyncio.gather(*(d.welcomed.wait() for d in devices)), timeout)
    return time.perf_counter() - started


async def toggles(
    hub: Hub, seed: dict, dashboard: Dashboard, entries: list[dict], samples: int
) -> dict[str, float]:
    """REST call -> device applies -> report stored -> dashboard receives it; sequential samples.

    Also the CPU spent per toggle by the hub process and by this one (API client, dashboard and
    device sockets): figures that hold across machines better than milliseconds do.
    """
    state = {e["light_id"]: False for e in entries}
    times = []
    lost = 0
    api = await Http11Connection.open(hub.url, {"Authorization": f"Bearer {seed['token']}"})
    hub_cpu, own_cpu = 0.0, 0.0
    try:
        for i in range(samples + 20):
            if i == 20:  # warm-up over
                hub_cpu, own_cpu = hub.cpu_seconds(), process_cpu_seconds()
            entry = random.choice(entries)
            light_id = entry["light_id"]
            target = not state[light_id]
            waiter = dashboard.expect(light_id, target)
            started = time.perf_counter()
            status, body = await api.post_json(f"/api/v1/lights/{light_id}/state", {"on": target})
            assert status == 202, body
            try:
                received = await asyncio.wait_for(waiter, 10)
            except TimeoutError:
                lost += 1  # counted, never silently dropped: the table shows it
                received = started + 10
                if lost >= 5:  # the hub is not keeping up: report what was measured, bounded in time
                    times.append(received - started)
                    break
            state[light_id] = target
            if i >= 20:
                times.append(received - started)
    finally:
        await api.close()
    result = summary_ms(times)
    result["timeouts"] = lost
    counted = max(1, len(times))
    result["hub_cpu_ms"] = (hub.cpu_seconds() - hub_cpu) * 1000 / counted
    result["bench_cpu_ms"] = (process_cpu_seconds() - own_cpu) * 1000 / counted
    return result


async def scenario_toggle(workdir: Path, devices_count: int, samples: int) -> dict[str, Any]:
    """Toggle round trip with 1, then with `devices_count`, devices connected."""
    database = Database("sqlite", workdir)
    seed = database.prepare(devices_count)
    hub = Hub(database).start()
    result: dict[str, Any] = {}
    devices: list[ProtocolDevice] = []
    try:
        dashboard = await Dashboard.open(hub, seed)
        devices = make_devices(hub, seed["devices"])
        await connect_all(devices[:1], 30)
        result["one"] = await toggles(hub, seed, dashboard, seed["devices"][:1], samples)
        say(f"  toggle, 1 device: {fmt(result['one'])}")
        result["connect_s"] = await connect_all(devices[1:], 120)
        result["many"] = await toggles(hub, seed, dashboard, seed["devices"], samples)
        result["devices"] = devices_count
        say(f"  toggle, {devices_count} devices: {fmt(result['many'])}")
        result["fanout"] = await fanout(hub, seed, devices)
        say(f"  fan-out to {devices_count} devices: {result['fanout']}")
        await dashboard.close()
    finally:
        for device in devices:
            await device.stop()
        hub.stop()
        database.drop()
    return result


async def fanout(hub: Hub, seed: dict, devices: list[ProtocolDevice]) -> dict[str, Any]:
    """'All lights off' in a home of N devices: time until every device applied and acked.

    Through a scene holding every light (POST /api/v1/scenes/{id}/apply) when the hub has
    scenes; else through N state calls issued at once (32 in flight).
    """
    entries = seed["devices"]
    async with httpx.AsyncClient(
        base_url=hub.url, headers={"Authorization": f"Bearer {seed['token']}"}, timeout=120
    ) as api:
        scenes = {}
        for name, on in (("all on", True), ("all off", False)):
            response = await api.post(
                "/api/v1/scenes",
                json={
                    "home_id": seed["home_id"],
                    "name": name,
                    "lights": [{"light_id": e["light_id"], "on": on} for e in entries],
                },
            )
            if response.status_code != 201:
                say(
                    f"  (no scene: HTTP {response.status_code} {response.text[:200]}; using one state call per light)"
                )
                scenes = {}
                break
            scenes[on] = response.json()["id"]
        results = {}
        for on in (True, False):
            for device in devices:
                device.changed.clear()
            started = time.perf_counter()
            if scenes:
                response = await api.post(f"/api/v1/scenes/{scenes[on]}/apply")
                assert response.status_code == 202, response.text
                how = "scene"
            else:
                limit = asyncio.Semaphore(32)

                async def one(light_id: int, target: bool = on, limit: asyncio.Semaphore = limit) -> None:
                    async with limit:
                        await api.post(f"/api/v1/lights/{light_id}/state", json={"on": target})

                await asyncio.gather(*(one(e["light_id"]) for e in entries))
                how = "state calls"
            answered = time.perf_counter() - started
            await asyncio.wait_for(asyncio.gather(*(d.changed.wait() for d in devices)), 120)
            results[on] = {
                "ms": (time.perf_counter() - started) * 1000,
                "api_ms": answered * 1000,
                "how": how,
            }
        off = results[False]
        return {"acked_ms": off["ms"], "api_ms": off["api_ms"], "how": off["how"], "devices": len(devices)}


async def scenario_capacity(workdir: Path, devices_count: int, samples: int) -> dict[str, Any]:
    """N device sockets on one hub process, all connecting at once, heartbeats on."""
    database = Database("sqlite", workdir)
    seed = database.prepare(devices_count)
    hub = Hub(database).start()
    devices: list[ProtocolDevice] = []
    result: dict[str, Any] = {"devices": devices_count}
    try:
        dashboard = await Dashboard.open(hub, seed)
        await asyncio.sleep(1)
        rss_before = hub.rss_mb()
        devices = make_devices(hub, seed["devices"])
        try:
            result["connect_s"] = await connect_all(devices, 300)
        except TimeoutError:
            result["connect_s"] = float("nan")
        result["connected"] = sum(1 for d in devices if d.welcomed.is_set())
        await asyncio.sleep(2)
        rss_after = hub.rss_mb()
        result["rss_before_mb"], result["rss_after_mb"] = rss_before, rss_after
        result["rss_total_mb"] = rss_after
        result["kb_per_connection"] = (rss_after - rss_before) * 1024 / max(1, result["connected"])
        say(
            f"  {result['connected']}/{devices_count} connected in {result['connect_s']:.1f} s; "
            f"hub RSS {rss_before:.0f} -> {rss_after:.0f} MiB ({result['kb_per_connection']:.1f} KiB per connection)"
        )
        connected = [e for e, d in zip(seed["devices"], devices, strict=True) if d.welcomed.is_set()]
        result["toggle"] = await toggles(hub, seed, dashboard, connected, samples)
        result["reconnects"] = sum(d.connections - 1 for d in devices)
        say(f"  toggle with {len(connected)} connected: {fmt(result['toggle'])}")
        await dashboard.close()
    finally:
        for device in devices:
            await device.stop()
        hub.stop()
        database.drop()
    return result


def scenario_poll(
    workdir: Path,
    kind: str,
    seconds: float,
    connections: int,
    workers: int = 1,
    root: Path = ROOT,
    script: Path | None = None,
) -> dict[str, Any]:
    """GET /lights_status/ with Basic auth, as fast as a separate load process can ask (the hub of
    the source tree `root`: this one, or a baseline commit's; served by `script` if given)."""
    database = Database(kind, workdir, root)
    seed = database.prepare(200)
    extra = (
        {"REDIS_URL": REDIS_URL, "LAMPLIGHTER_REDIS_PREFIX": "bench-" + database.data_dir.name}
        if workers > 1
        else {}
    )
    hub = Hub(database, extra, workers, script).start()
    try:
        credentials = database.data_dir / "credentials"
        credentials.write_text("\n".join(f"{d['device_id']}:{d['secret']}" for d in seed["devices"]))
        output = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "loadgen.py"),
                hub.url + "/lights_status/",
                "--credentials-file",
                str(credentials),
                "--seconds",
                str(seconds),
                "--connections",
                str(connections),
                *(["--hub-pid", str(hub.process.pid)] if workers == 1 and hub.process else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = dict(json.loads(output.strip().splitlines()[-1]))
        say(
            f"  poll, {kind}: {result['rps']:.0f} req/s (p50 {result['p50_ms']:.1f} ms, errors {result['errors']}, "
            f"hub CPU {result.get('hub_cpu_us', float('nan')):.0f} µs per answer)"
        )
        return result
    finally:
        hub.stop()
        database.drop()


# ---- report ------------------------------------------------------------------------------


def fmt(s: dict[str, float]) -> str:
    """p50 / p99 / p99.9 in ms."""
    lost = f", {s['timeouts']} not confirmed within 10 s" if s.get("timeouts") else ""
    cpu = (
        f"; CPU per toggle: hub {s['hub_cpu_ms']:.2f} ms, benchmark {s['bench_cpu_ms']:.2f} ms"
        if "hub_cpu_ms" in s
        else ""
    )
    return f"p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, p99.9 {s['p999']:.2f} ms (n={s['n']}{lost}){cpu}"


def verdict(ok: bool) -> str:
    """Target met or not."""
    return "met" if ok else "**missed**"


def report(info: dict[str, str], r: dict[str, Any]) -> str:
    """The Markdown table of the run."""
    echo, mqtt, toggle, capacity = r["echo"], r.get("mqtt"), r["toggle"], r["capacity"]
    many, one = toggle["many"], toggle["one"]
    lines = [
        "# Benchmark results (latest run)",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Python {info['python']}.  ",
        f"Commit {info['commit']}, {info['date']}. Produced by `make bench` (bench/run.py).",
        "",
        "Hub: one `lamplighter serve` process, SQLite, in-memory channel layer (the embedded default),",
        "unless noted. Devices are lightweight protocol clients (hub/lamplighter/tools/protocol_client.py).",
        "",
        "## Toggle round trip: REST call → device applies → report stored → dashboard receives it",
        "",
        "| path | p50 ms | p99 ms | p99.9 ms | n |",
        "| --- | ---: | ---: | ---: | ---: |",
        row("baseline: bare asyncio TCP echo, loopback", echo),
    ]
    if mqtt:
        lines.append(row("baseline: command/ack via local Mosquitto (QoS 0)", mqtt))
    lines += [
        row("hub, 1 device connected", one),
        row(f"hub, {toggle['devices']} devices connected", many),
        row(f"hub, {capacity['connected']} devices connected (capacity run)", capacity["toggle"]),
        "",
        f"Ratios at p99 with {toggle['devices']} devices: {many['p99'] / echo['p99']:.1f}× the TCP echo"
        + (f", {many['p99'] / mqtt['p99']:.1f}× the Mosquitto round trip" if mqtt else "")
        + f". Target p99 ≤ 5 ms: {verdict(many['p99'] <= 5)}.",
        "",
        f"CPU per toggle with {toggle['devices']} devices: the hub process {many['hub_cpu_ms']:.2f} ms, the benchmark's "
        f"own process (API client, dashboard and device sockets) {many['bench_cpu_ms']:.2f} ms; the toggles run one "
        "after another, so on 2 cores most of both is on the round trip's path.",
        "",
        f"The seed's design (poll every {SEED_POLL_INTERVAL:.0f} s) sees a change after "
        f"{SEED_POLL_INTERVAL / 2 * 1000:.0f} ms on average; the WebSocket path's p50 with {toggle['devices']} devices "
        f"is {many['p50']:.2f} ms, {SEED_POLL_INTERVAL / 2 * 1000 / many['p50']:.0f}× sooner "
        f"(its p99.9, {many['p999']:.1f} ms, is {SEED_POLL_INTERVAL / 2 * 1000 / many['p999']:.0f}× below that average).",
        "",
        "## Capacity: device WebSockets on one hub process (heartbeats on)",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
        f"| devices connected (all at once) | {capacity['connected']} / {capacity['devices']} | |",
        f"| time until all were welcomed | {capacity['connect_s']:.1f} s | ≤ 30 s: {verdict(capacity['connect_s'] <= 30 and capacity['connected'] == capacity['devices'])} |",
        f"| hub RSS before → after | {capacity['rss_before_mb']:.0f} → {capacity['rss_after_mb']:.0f} MiB | < 600 MB at 10,000: {verdict(capacity['rss_after_mb'] * 1.048576 < 600)} |",
        f"| RSS per connection | {capacity['kb_per_connection']:.1f} KiB | |",
        f"| reconnects during the run | {capacity['reconnects']} | |",
        "",
        "## Fan-out: “all lights off” in one home",
        "",
        "| devices | how | API answered | every device acked | target |",
        "| ---: | --- | ---: | ---: | --- |",
        f"| {toggle['fanout']['devices']} | {toggle['fanout']['how']} | {toggle['fanout']['api_ms']:.0f} ms "
        f"| {toggle['fanout']['acked_ms']:.0f} ms | ≤ 500 ms: {verdict(toggle['fanout']['acked_ms'] <= 500)} |",
        "",
        "## Poll throughput: `GET /lights_status/` with Basic auth (load from a separate process)",
        "",
        "| database | requests/s | p50 ms | p99 ms | errors | target ≥ 2,000/s |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for kind, poll in r["poll"].items():
        lines.append(
            f"| {kind} | {poll['rps']:.0f} | {poll['p50_ms']:.1f} | {poll['p99_ms']:.1f} | {poll['errors']} "
            f"| {verdict(poll['rps'] >= 2000)} |"
        )
    if r.get("slider"):
        lines += ["", *slider_report_lines(r["slider"], toggle_p99=many["p99"])]
    if r.get("paths"):
        lines += ["", *paths_report_lines(r["paths"])]
    return "\n".join(lines) + "\n"


def row(name: str, s: dict[str, float]) -> str:
    """One latency row."""
    lost = f" ({s['timeouts']} not confirmed within 10 s, counted as 10 s)" if s.get("timeouts") else ""
    return f"| {name} | {s['p50']:.2f} | {s['p99']:.2f} | {s['p999']:.2f} | {s['n']}{lost} |"


def say_part_report(info: dict[str, Any], title: str, lines: list[str]) -> None:
    """Print the report of a partial run (not written to LATEST.md): its title, the machine, the lines."""
    say("")
    say(
        "\n".join(
            [
                f"# {title}",
                "",
                f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM, Python {info['python']}.  ",
                f"Commit {info['commit']}, {info['date']}.",
                "",
                *lines,
            ]
        )
    )


async def main_async(args: argparse.Namespace) -> int:
    """Run every scenario in order and write the results."""
    info = machine()
    say(
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram']}; commit {info['commit']}; {info['date']}"
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lamplighter-bench-") as tmp:
        workdir = Path(tmp)
        if args.slider_only:
            say("Slider (brightness dragged at 60 updates/s for 5 s)")
            slider = await scenario_slider(workdir, lights=args.slider_lights, say=say)
            say_part_report(
                info, "Slider benchmark (bench/run.py --slider-only)", slider_report_lines(slider)
            )
            return 0
        if args.paths_only:
            say("Baselines")
            mqtt = await mqtt_baseline(args.samples)
            if mqtt:
                say(f"  Mosquitto command/ack: {fmt(mqtt)}")
            say("One request path (issue 20)")
            paths = await scenario_paths(
                workdir, args.devices, args.samples, args.poll_seconds, args.baseline_commit, mqtt, say
            )
            say_part_report(
                info, "Request-path benchmark (bench/run.py --paths-only)", paths_report_lines(paths)
            )
            return 0
        say("Baselines")
        results["echo"] = await echo_baseline(args.samples * 2)
        say(f"  TCP echo: {fmt(results['echo'])}")
        results["mqtt"] = await mqtt_baseline(args.samples)
        if results["mqtt"]:
            say(f"  Mosquitto command/ack: {fmt(results['mqtt'])}")
        say("Toggle round trip and fan-out")
        results["toggle"] = await scenario_toggle(workdir, args.devices, args.samples)
        say("Slider (brightness dragged at 60 updates/s for 5 s)")
        results["slider"] = await scenario_slider(workdir, lights=args.slider_lights, say=say)
        say("Capacity")
        results["capacity"] = await scenario_capacity(workdir, args.capacity, max(200, args.samples // 5))
        say("One request path (issue 20)")
        results["paths"] = await scenario_paths(
            workdir, args.devices, args.samples, args.poll_seconds, args.baseline_commit, results["mqtt"], say
        )
        say("Poll throughput")
        results["poll"] = {
            "SQLite (1 process)": scenario_poll(workdir, "sqlite", args.poll_seconds, 32),
            "PostgreSQL (1 process)": scenario_poll(workdir, "postgres", args.poll_seconds, 32),
            "PostgreSQL + Redis, 2 workers": scenario_poll(
                workdir, "postgres", args.poll_seconds, 32, workers=2
            ),
        }
    text = report(info, results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    (RESULTS.parent / "latest.json").write_text(json.dumps({"machine": info, "results": results}, indent=1))
    say("")
    say(text)
    say(f"Written to {RESULTS.relative_to(ROOT)}")
    return 0


def main() -> int:
    """Parse flags and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=10000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--poll-seconds", type=float, default=10)
    parser.add_argument("--slider-lights", type=int, default=100, help="lights dragged at once (default 100)")
    parser.add_argument(
        "--slider-only", action="store_true", help="only the slider benchmark, with its toggle beside"
    )
    parser.add_argument(
        "--baseline-commit",
        default=BASELINE_COMMIT,
        help=f"the earlier commit whose hub runs beside this one (default {BASELINE_COMMIT}; '' for none)",
    )
    parser.add_argument(
        "--paths-only", action="store_true", help="only issue 20's request-path figures (with the baseline)"
    )
    args = parser.parse_args()
    if args.echo_server:
        run_echo_server(args.echo_server)
        return 0
    if args.quick:
        args.devices, args.capacity, args.samples, args.poll_seconds = 100, 500, 200, 3
    raise_fd_limit()
    # This process's collector, set as the hub's is: with the defaults, its collections over
    # 10,000 client sockets took a third of its CPU in the connect storm, on the hub's 2 cores.
    collector.tune_for_server()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
