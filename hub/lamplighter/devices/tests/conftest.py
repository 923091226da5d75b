"""Fixtures the device end-to-end tests share."""

import copy
from typing import Any

import pytest

from lamplighter.lights import services as light_services


@pytest.fixture
def reports(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every light entry the hub takes in (hellos and reports), in order."""
    seen: list[dict[str, Any]] = []
    original = light_services._reconcile

    def recording(batches: list[tuple[Any, list[dict[str, Any]]]]) -> Any:
        for _, entries in batches:
            seen.extend(copy.deepcopy(entries))
        return original(batches)

    monkeypatch.setattr(light_services, "_reconcile", recording)
    return seen
