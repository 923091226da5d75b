"""Who holds the bridge lease: a holder name that says which process it is, and whether that
process is gone (so a hub restarted after a crash takes its own lease over at once).

A holder is `host:pid:start:space:random`: `start` is the process's start time (clock ticks after
boot, so a reused pid is told apart) and `space` a digest of this boot's id and pid namespace (two
containers or machines never share one, whatever their host names). A holder can be judged gone
only from inside the same `space`; any other holder is left to run out its lease.
"""

import hashlib
import os
import secrets
import socket
from pathlib import Path

PROC = Path("/proc")


def _process_start(pid: int) -> str | None:
    """The start time of a live process (ticks after boot), None when it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is fields[0]
    if fields[0] in ("Z", "X"):
        return None  # killed, not yet reaped by its parent: gone all the same
    return fields[19]


def _space() -> str:
    """A digest of this machine's boot id and this pid namespace; empty where /proc lacks them."""
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink(PROC / "self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}|{namespace}".encode()).hexdigest()[:12]


def holder_name() -> str:
    """This process's holder name (a fresh random part each call)."""
    host = socket.gethostname().replace(":", "_")[:32]
    pid = os.getpid()
    return f"{host}:{pid}:{_process_start(pid) or ''}:{_space()}:{secrets.token_hex(3)}"


def holder_is_gone(holder: str) -> bool:
    """True when `holder` names a process of this machine and pid namespace that no longer runs;
    False when it runs, lives elsewhere, or cannot be told."""
    parts = holder.rsplit(":", 4)
    if len(parts) != 5:
        return False  # a name from an older hub: wait for its lease to run out
    _, pid, start, space, _ = parts
    here = _space()
    if not here or space != here or not pid.isdigit() or not start:
        return False
    return _process_start(int(pid)) != start
