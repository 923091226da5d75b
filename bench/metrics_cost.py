"""What the hub's metrics add to its hot paths: one counter increment, one histogram observation.

Prints each per-call cost and its ratio to a baseline measured in the same run: a plain dict
increment (the cheapest way to count anything in Python). Run: `.venv/bin/python bench/metrics_cost.py`.
"""

import os
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "hub"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamplighter.settings")

from lamplighter.infra import metrics  # noqa: E402

CALLS = 500_000


def per_call(function: object) -> float:
    """Best of 5 runs, in microseconds per call."""
    return min(timeit.repeat(function, number=CALLS, repeat=5)) / CALLS * 1e6  # type: ignore[arg-type]


def main() -> None:
    """Measure and print."""
    counts: dict[str, int] = {"state.report": 0}

    def baseline() -> None:
        counts["state.report"] += 1

    base = per_call(baseline)
    rows = [
        ("baseline: dict increment", base),
        (
            "device message counted (metrics.device_message_received)",
            per_call(lambda: metrics.device_message_received("websocket", "state.report")),
        ),
        (
            "toggle observed (lamplighter_toggle_seconds)",
            per_call(lambda: metrics.TOGGLE_SECONDS.observe(0.002)),
        ),
    ]
    print(f"{'what':<60} {'µs/call':>8} {'ratio':>6}")
    for name, cost in rows:
        print(f"{name:<60} {cost:8.3f} {cost / base:6.1f}x")


if __name__ == "__main__":
    main()
