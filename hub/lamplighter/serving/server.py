"""`lamplighter serve`: the hub under uvicorn."""

import argparse
import os
import shutil
import sys
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

# Device messages are at most 16 KB; anything far larger is refused at the socket.
WEBSOCKET_MAX_BYTES = 64 * 1024


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def log_level() -> str:
    """LAMPLIGHTER_LOG_LEVEL, checked (default info)."""
    level = os.environ.get("LAMPLIGHTER_LOG_LEVEL", "INFO").strip().lower()
    if level not in LOG_LEVELS:
        raise SystemExit(f"LAMPLIGHTER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {level!r}")
    return level


def uvicorn_config(host: str, port: int, workers: int = 1) -> uvicorn.Config:
    """The server settings every way of running the hub shares."""
    return uvicorn.Config(
        "lamplighter.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        ws_max_size=WEBSOCKET_MAX_BYTES,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        proxy_headers=True,
        # The server logs at the hub's level: at WARNING, no line per request or socket.
        log_level=log_level(),
    )


def serve_main(argv: list[str]) -> int:
    """Parse the flags and serve until stopped."""
    parser = argparse.ArgumentParser(prog="lamplighter serve", description="Run the hub.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (needs PostgreSQL and Redis)"
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1:
        problem = multi_worker_problem()
        if problem:
            parser.error(problem)
    problem = startup_problem()
    if problem:
        print(f"lamplighter serve: {problem}", file=sys.stderr)
        return 2
    if args.workers > 1:
        metrics_multiprocess_dir()
    config = uvicorn_config(args.host, args.port, args.workers)
    try:
        _run(config, args)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown: that is the normal way out
    return 0


def startup_problem() -> str:
    """Why the hub must not start ("" when it may): a database it cannot use, or whose schema
    does not match this code (lamplighter.infra.migration_check)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    import django
    from django.db import DatabaseError

    django.setup()
    from lamplighter.infra.migration_check import schema_problem

    try:
        return schema_problem()
    except DatabaseError as error:
        return f"cannot reach the database: {error}".strip()
    finally:
        from django.db import connections

        connections.close_all()
        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "close_pool"):  # PostgreSQL: no idle pool left in the supervisor
                connection.close_pool()


def metrics_multiprocess_dir() -> Path:
    """Several workers: prometheus_client's multiprocess mode, so /metrics on any worker counts
    them all. Each worker writes its counters to files in this folder, emptied at start."""
    from django.conf import settings

    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(configured) if configured else Path(settings.DATA_DIR) / "metrics"
    if not configured and folder.is_dir():
        shutil.rmtree(folder)  # a previous run's counters: the counts start again with the server
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # the workers inherit it
    return folder


def _run(config: uvicorn.Config, args: argparse.Namespace) -> None:
    if args.workers > 1:
        # uvicorn's supervisor: one listening socket shared by N processes; a worker that dies
        # is started again. Same Config as one process (ping, size limit, proxy headers).
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


def multi_worker_problem() -> str:
    """Why this configuration cannot run several workers, or "" when it can."""
    import os

    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")
    backend = str(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    if "InMemoryChannelLayer" in backend:
        return (
            "--workers > 1 needs REDIS_URL: the in-memory channel layer lives in one process, "
            "so a command taken by one worker could never reach a device connected to another"
        )
    return ""
