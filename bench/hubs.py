"""Benchmark plumbing: hub processes, their databases and seeded homes, machine facts, percentiles."""

import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.proc import process_cpu_seconds
from lamplighter.tools.simulator import free_port

ROOT = Path(__file__).resolve().parents[1]
HUB_DIR = ROOT / "hub"
PG = {"host": "127.0.0.1", "port": 5432}
REDIS_URL = "redis://127.0.0.1:6379/0"


def raise_fd_limit() -> int:
    """Lift RLIMIT_NOFILE to the hard limit (10,000 sockets need more than the usual 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """p50/p99/p99.9 in milliseconds."""
    values = sorted(seconds)
    return {
        "n": len(values),
        "p50": percentile(values, 0.50) * 1000,
        "p99": percentile(values, 0.99) * 1000,
        "p999": percentile(values, 0.999) * 1000,
    }


def machine() -> dict[str, str]:
    """nproc, CPU model, RAM, Python, commit and date: the header of every results table."""
    facts: dict[str, str] = {}
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if not key.strip():  # the first CPU's block ends here
                break
            facts.setdefault(key.strip(), value.strip())
    cpu = facts.get("model name", "unknown")
    # A virtual machine may name only the vendor ("AMD EPYC"): the family and model tell
    # apart CPU generations whose figures differ by several times.
    if "cpu family" in facts and "model" in facts:
        cpu += f", family {facts['cpu family']} model {facts['model']}"
    with open("/proc/meminfo") as handle:
        mem_kb = int(handle.readline().split()[1])
    commit = "unknown"
    if shutil.which("git"):
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
            ).stdout
            commit += " (+ uncommitted changes)" if dirty.strip() else ""
        except subprocess.CalledProcessError:
            pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


class Database:
    """A fresh database for one scenario: SQLite in a folder, or a PostgreSQL database (dropped after)."""

    def __init__(self, kind: str, workdir: Path, root: Path = ROOT) -> None:
        self.kind = kind
        self.root = root  # the source tree whose hub serves it (another commit's: baseline_tree)
        self.hub_dir = root / "hub"
        self.data_dir = workdir / f"{kind}-{uuid.uuid4().hex[:6]}"
        self.data_dir.mkdir(parents=True)
        self.pg_name = f"lamplighter_bench_{uuid.uuid4().hex[:8]}" if kind == "postgres" else ""
        self.env = {
            **os.environ,
            "LAMPLIGHTER_DATA_DIR": str(self.data_dir),
            "LAMPLIGHTER_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "LAMPLIGHTER_LOG_LEVEL": "WARNING",
            "LAMPLIGHTER_BACKUP_INTERVAL": "0",  # no scheduled backup in the middle of a measurement
            "PYTHONPATH": f"{self.hub_dir}{os.pathsep}{root}",
        }
        self.env.pop("REDIS_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.env.pop("MQTT_URL", None)
        if kind == "postgres":
            with _pg() as connection:
                connection.execute(f'CREATE DATABASE "{self.pg_name}"')
                user = connection.info.user
            self.env["DATABASE_URL"] = f"postgres://{user}@{PG['host']}:{PG['port']}/{self.pg_name}"

    def prepare(self, devices: int, kind: str = "onoff") -> dict:
        """Migrate and seed one home with `devices` devices (a light of this kind each); return the
        seed (credentials)."""
        subprocess.run(
            [sys.executable, "-m", "lamplighter.cli", "migrate", "-v", "0"],
            cwd=self.hub_dir,
            env=self.env,
            check=True,
        )
        out = self.data_dir / "seed.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                # The baseline commit's tree (bench.paths) has it at the package root.
                "lamplighter.tools.loadseed"
                if (self.hub_dir / "lamplighter" / "tools" / "loadseed.py").exists()
                else "lamplighter.loadseed",
                "--devices",
                str(devices),
                "--kind",
                kind,
                "--out",
                str(out),
            ],
            cwd=self.hub_dir,
            env=self.env,
            check=True,
        )
        return dict(json.loads(out.read_text()))

    def drop(self) -> None:
        """Remove the PostgreSQL database (SQLite folders go with the work dir)."""
        if self.pg_name:
            with _pg() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


def _pg():  # type: ignore[no-untyped-def]
    import psycopg

    last: Exception | None = None
    for user in ("postgres", "root"):
        try:
            return psycopg.connect(**PG, user=user, dbname="postgres", autocommit=True)
        except psycopg.OperationalError as error:
            last = error
    raise RuntimeError(f"cannot reach PostgreSQL: {last}")


class Hub:
    """One `lamplighter serve` (one worker, the embedded default, unless workers > 1: then Redis too)."""

    def __init__(
        self,
        database: Database,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
        script: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.script = script  # a script serving the hub in its stead, given the port (bench/poll_floor.py)
        self.workers = workers
        self.env = {**database.env, **(extra_env or {})}
        self.hub_dir = database.hub_dir
        self.log = database.data_dir / "hub.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        """WebSocket base URL."""
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> "Hub":
        """Start and wait until it answers."""
        command = (
            [sys.executable, str(self.script), str(self.port)]
            if self.script
            else [
                sys.executable,
                "-m",
                "lamplighter.cli",  # a module before the package root was grouped, a package now
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ]
        )
        self.process = subprocess.Popen(
            command,
            cwd=self.hub_dir,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=raise_fd_limit,  # noqa: PLW1509 - only sets a resource limit
            start_new_session=True,  # its own process group, so stop() ends every worker
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("hub exited: " + self.log.read_text()[-2000:])
            try:
                if httpx.get(self.url + "/login/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("hub did not start: " + self.log.read_text()[-2000:])

    def rss_mb(self) -> float:
        """Resident memory of the hub process, MiB."""
        assert self.process is not None
        with open(f"/proc/{self.process.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU the hub process has used so far (all its threads)."""
        assert self.process is not None
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; then any process of its group still there (a `--workers` child)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def baseline_tree(commit: str, workdir: Path) -> "Iterator[Path]":
    """A checkout of another commit of this repository (a detached git worktree), for a hub to
    run beside this one in the same benchmark run; removed afterwards."""
    path = workdir / f"baseline-{commit[:12]}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)
