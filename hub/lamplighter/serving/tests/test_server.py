"""`lamplighter serve`: the server follows the hub's log level and refuses a level it does not know."""

import pytest

from lamplighter.serving.server import log_level, uvicorn_config


def test_server_logs_at_the_hubs_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMPLIGHTER_LOG_LEVEL", "WARNING")
    assert uvicorn_config("127.0.0.1", 8000).log_level == "warning"
    monkeypatch.delenv("LAMPLIGHTER_LOG_LEVEL")
    assert log_level() == "info"


def test_unknown_level_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMPLIGHTER_LOG_LEVEL", "loud")
    with pytest.raises(SystemExit, match="must be one of debug, info, warning, error, critical"):
        log_level()
