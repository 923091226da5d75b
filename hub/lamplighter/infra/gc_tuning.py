"""The garbage collector's settings for a long-running process with many sockets (the hub, and
the benchmark process that plays its devices). No Django: the benchmark imports it as it is.

With the defaults (a young collection every 700 allocations), collections took a quarter of the
hub's CPU while thousands of devices connected, and a third of the benchmark's own CPU over its
10,000 client sockets (bench/README.md). Young collections every 20,000 allocations cost memory
(hub RSS with 10,000 sockets 448 -> ~500 MiB, with other changes made alongside) and no latency
that the toggle benchmark could tell from its noise.
"""

import gc

THRESHOLDS = (20_000, 20, 20)


def tune_for_server() -> None:
    """Freeze what start-up built (modules, settings, URL patterns: it lives as long as the
    process) and collect young objects every THRESHOLDS[0] allocations."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
