"""Issue 20's figures: the one request path, and this commit against an earlier one, in one run.

`python bench/run.py --paths-only [--baseline-commit a792b02]` (also part of `make bench`):

- the dashboard's switch (REST with the session and CSRF token) against a token's state call on
  the same hub: the answer's p50 and the hub's CPU per call;
- the token's toggle round trip with N devices connected (REST → device applies → report
  stored → dashboard receives it): p99 against Mosquitto's command/ack in the same run, and the
  hub's CPU per toggle against the baseline commit's hub;
- /lights_status/ throughput against the baseline commit's hub.

The baseline hub runs from a detached git worktree of that commit (bench.hubs.baseline_tree),
with this checkout's virtual environment: the commit's dependencies must be installed in it
(a792b02 needs whitenoise).
"""

import asyncio
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.hubs import ROOT, Database, Hub, baseline_tree, summary_ms
from bench.slider import dashboard_connection, token_connection

THIS = "this commit"
VIEW_ALONE = "this commit's poll view without the middleware chain (bench/poll_floor.py)"


async def switch_answers(hub: Hub, connection: Any, entries: list[dict], samples: int) -> dict[str, float]:
    """Sequential state calls on one keep-alive connection: time to each answer, hub CPU per call."""
    state = {e["light_id"]: False for e in entries}
    times = []
    hub_cpu = 0.0
    for i in range(samples + 20):
        if i == 20:  # warm-up over
            hub_cpu = hub.cpu_seconds()
        entry = entries[i % len(entries)]
        target = not state[entry["light_id"]]
        started = time.perf_counter()
        status, body = await connection.post_json(f"/api/v1/lights/{entry['light_id']}/state", {"on": target})
        if status != 202:
            raise RuntimeError(f"state call answered {status}: {body[:200]!r}")
        state[entry["light_id"]] = target
        if i >= 20:
            times.append(time.perf_counter() - started)
    result = summary_ms(times)
    result["hub_cpu_ms"] = (hub.cpu_seconds() - hub_cpu) * 1000 / max(1, len(times))
    return result


async def one_hub(
    workdir: Path, root: Path, devices_count: int, samples: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """The switch answers (token and session, alternating blocks) and the token's round trip with
    `devices_count` devices connected, on the hub of the source tree `root`."""
    from bench import run as harness  # the toggle machinery (run.py imports this module)

    database = Database("sqlite", workdir, root)
    seed = database.prepare(devices_count)
    hub = Hub(database).start()
    devices: list[Any] = []
    result: dict[str, Any] = {}
    try:
        dashboard = await harness.Dashboard.open(hub, seed)
        devices = harness.make_devices(hub, seed["devices"])
        await harness.connect_all(devices, 120)
        token, session = await token_connection(hub, seed), await dashboard_connection(hub, seed)
        try:
            blocks: dict[str, list[dict[str, float]]] = {"token": [], "session": []}
            block = max(20, samples // 4)
            for _ in range(4):  # alternating, so a busy moment of the machine hits both alike
                blocks["token"].append(await switch_answers(hub, token, seed["devices"][:50], block))
                blocks["session"].append(await switch_answers(hub, session, seed["devices"][50:100], block))
            for name, parts in blocks.items():
                result[name] = _merge(parts)
        finally:
            await token.close()
            await session.close()
        result["round_trip"] = await harness.toggles(hub, seed, dashboard, seed["devices"], samples)
        await dashboard.close()
    except Exception:
        say(f"  hub failed; its log ends:\n{hub.log.read_text()[-4000:]}")
        raise
    finally:
        for device in devices:
            await device.stop()
        hub.stop()
        database.drop()
    say(
        f"  answers: token p50 {result['token']['p50']:.2f} ms (hub CPU {result['token']['hub_cpu_ms']:.2f} ms), "
        f"session p50 {result['session']['p50']:.2f} ms (hub CPU {result['session']['hub_cpu_ms']:.2f} ms)"
    )
    say(f"  token round trip, {devices_count} devices: {harness.fmt(result['round_trip'])}")
    return result


def _merge(parts: list[dict[str, float]]) -> dict[str, float]:
    """Blocks of one measurement as one: medians of the percentiles, CPU averaged by calls."""
    merged: dict[str, float] = {}
    for key in ("p50", "p99", "p999", "hub_cpu_ms"):
        values = sorted(part[key] for part in parts)
        merged[key] = values[len(values) // 2] if key != "hub_cpu_ms" else sum(values) / len(values)
    merged["n"] = sum(part["n"] for part in parts)
    return merged


async def scenario_paths(
    workdir: Path,
    devices_count: int,
    samples: int,
    poll_seconds: float,
    baseline_commit: str | None,
    mqtt: dict[str, float] | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Every figure of issue 20 for this commit, and for the baseline commit's hub beside it."""
    from bench import run as harness

    result: dict[str, Any] = {"devices": devices_count, "mqtt": mqtt, "hubs": {}, "poll": {}}
    trees = {THIS: ROOT}
    if baseline_commit and importlib.util.find_spec("whitenoise") is None:
        say("  baseline skipped: its hub needs whitenoise (pip install whitenoise in this venv)")
        baseline_commit = None
    with _maybe_tree(baseline_commit, workdir) as baseline:
        if baseline is not None:
            trees[f"baseline {baseline_commit}"] = baseline
        for name, root in trees.items():
            say(f" {name}")
            result["hubs"][name] = await one_hub(workdir, root, devices_count, samples, say)
        # The poll: alternating hubs, the best of two runs each; beside them the view alone,
        # without the chain (bench/poll_floor.py): the most a shortcut could win.
        polled: dict[str, tuple[Path, Path | None]] = {name: (root, None) for name, root in trees.items()}
        polled[VIEW_ALONE] = (ROOT, ROOT / "bench" / "poll_floor.py")
        for _round in range(2):
            for name, (root, script) in polled.items():
                poll = await asyncio.to_thread(
                    harness.scenario_poll, workdir, "sqlite", poll_seconds, 32, 1, root, script
                )
                best = result["poll"].get(name)
                if best is None or poll["rps"] > best["rps"]:
                    result["poll"][name] = poll
    result["baseline"] = next((name for name in trees if name != THIS), None)
    return result


class _maybe_tree:
    """baseline_tree(commit) when a commit is given, else nothing."""

    def __init__(self, commit: str | None, workdir: Path) -> None:
        self.context = baseline_tree(commit, workdir) if commit else None

    def __enter__(self) -> Path | None:
        return self.context.__enter__() if self.context else None

    def __exit__(self, *error: object) -> None:
        if self.context:
            self.context.__exit__(*error)


def report_lines(r: dict[str, Any]) -> list[str]:
    """The Markdown section of issue 20's figures."""
    this = r["hubs"][THIS]
    token, session, trip = this["token"], this["session"], this["round_trip"]
    mqtt = r.get("mqtt")
    lines = [
        "## One request path (issue 20): the dashboard's switch, the token's call, the earlier commit",
        "",
        "| hub | token answer p50 ms | session+CSRF answer p50 ms | hub CPU per call: token / session ms "
        f"| token round trip, {r['devices']} devices, p50 / p99 ms | hub CPU per toggle ms | poll req/s (SQLite) "
        "| hub CPU per poll µs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, hub in r["hubs"].items():
        poll = r["poll"].get(name, {})
        lines.append(
            f"| {name} | {hub['token']['p50']:.2f} | {hub['session']['p50']:.2f} "
            f"| {hub['token']['hub_cpu_ms']:.2f} / {hub['session']['hub_cpu_ms']:.2f} "
            f"| {hub['round_trip']['p50']:.2f} / {hub['round_trip']['p99']:.2f} | {hub['round_trip']['hub_cpu_ms']:.2f} "
            f"| {poll.get('rps', float('nan')):.0f} | {poll.get('hub_cpu_us', float('nan')):.0f} |"
        )
    answer_ratio = session["p50"] / token["p50"]
    cpu_ratio = session["hub_cpu_ms"] / token["hub_cpu_ms"]
    lines += [
        "",
        f"- Session+CSRF answer p50 = {answer_ratio:.2f}× the token's (target ≤ 2×): {_verdict(answer_ratio <= 2)}.",
        f"- Session+CSRF hub CPU per call = {cpu_ratio:.2f}× the token's (target ≤ 2×): {_verdict(cpu_ratio <= 2)}.",
    ]
    if mqtt:
        trip_ratio = trip["p99"] / mqtt["p99"]
        lines.append(
            f"- Token round trip p99 with {r['devices']} devices = {trip_ratio:.1f}× Mosquitto's command/ack "
            f"({mqtt['p99']:.2f} ms, same run; target ≤ 5×): {_verdict(trip_ratio <= 5)}."
        )
    baseline = r.get("baseline")
    if baseline:
        before = r["hubs"][baseline]
        cpu = trip["hub_cpu_ms"] / before["round_trip"]["hub_cpu_ms"]
        polls = r["poll"][THIS]["rps"] / r["poll"][baseline]["rps"]
        lines += [
            f"- Hub CPU per token toggle = {cpu:.2f}× the {baseline}'s (its ASGI shortcut; target ≤ 1×): {_verdict(cpu <= 1)}.",
            f"- /lights_status/ throughput = {polls:.0%} of the {baseline}'s (target ≥ 85 %): {_verdict(polls >= 0.85)}.",
        ]
        this_cpu, before_cpu = r["poll"][THIS].get("hub_cpu_us"), r["poll"][baseline].get("hub_cpu_us")
        if this_cpu and before_cpu:
            lines.append(
                f"- Hub CPU per poll = {this_cpu:.0f} µs, {this_cpu / before_cpu:.2f}× the {baseline}'s "
                f"({before_cpu:.0f} µs): what the throughput is made of, less moved by other jobs on the machine."
            )
        alone = r["poll"].get(VIEW_ALONE)
        if alone:
            floor = alone["rps"] / r["poll"][baseline]["rps"]
            alone_cpu = alone.get("hub_cpu_us")
            cpu_part = (
                f"; hub CPU per poll {alone_cpu:.0f} µs = {alone_cpu / before_cpu:.2f}× the {baseline}'s"
                if alone_cpu and before_cpu
                else ""
            )
            lines.append(
                f"- The poll view without any middleware (the most a shortcut under issue 20's rules "
                f"could win): {alone['rps']:.0f} req/s = {floor:.0%} of the {baseline}'s{cpu_part}."
            )
    return lines


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"
