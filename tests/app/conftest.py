"""Every app test keeps its autosave copies and log in its own temporary folder, never in $HOME."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_app_folders(tmp_path, monkeypatch):
    recovery = tmp_path / "recovery"
    logs = tmp_path / "logs"
    monkeypatch.setenv("NETWRIGHT_RECOVERY_DIR", str(recovery))
    monkeypatch.setenv("NETWRIGHT_LOG_DIR", str(logs))
    return recovery, logs
