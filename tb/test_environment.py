"""What a missing tool does: skip outside CI, fail under ``CI=true``."""

import pytest

from . import environment


def test_missing_tool_fails_under_ci(monkeypatch):
    monkeypatch.setattr(environment, "CI", True)
    with pytest.raises(pytest.fail.Exception, match="no such tool"):
        environment.unavailable("no such tool")
    monkeypatch.setattr(environment, "CI", False)
    with pytest.raises(pytest.skip.Exception, match="no such tool"):
        environment.unavailable("no such tool")


def test_unknown_simulator_is_unavailable():
    assert "SIM=nosuch" in environment.prepare_simulator("nosuch")
