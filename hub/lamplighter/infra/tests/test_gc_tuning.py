"""The collector's settings for the hub and the benchmark process."""

import gc

from lamplighter.infra import gc_tuning as collector


def test_tune_for_server_freezes_start_up_and_collects_young_objects_less_often() -> None:
    before = gc.get_threshold()
    try:
        collector.tune_for_server()
        assert gc.get_threshold() == collector.THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
