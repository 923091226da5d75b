"""CPU time of a process from /proc, for the hub's CPU per request (hubs.py, loadgen.py)."""

import os


def process_cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (this one by default), all threads, in seconds."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
