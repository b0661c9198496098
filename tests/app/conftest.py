"""Every app test keeps its autosave copies and log in its own temporary folder, never in $HOME;
`shown` records message boxes (answering Yes) instead of waiting for a click."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox


@pytest.fixture(autouse=True)
def private_app_folders(tmp_path, monkeypatch):
    recovery = tmp_path / "recovery"
    logs = tmp_path / "logs"
    monkeypatch.setenv("NETWRIGHT_RECOVERY_DIR", str(recovery))
    monkeypatch.setenv("NETWRIGHT_LOG_DIR", str(logs))
    return recovery, logs


@pytest.fixture
def shown(monkeypatch):
    """Message boxes recorded instead of shown."""
    seen: list[str] = []

    def record(kind):
        def show(_parent, title, text, *args, **kwargs):
            seen.append(f"{kind}: {title}: {text}")
            return QMessageBox.StandardButton.Yes

        return show

    for kind in ("warning", "information", "question", "critical"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(record(kind)))
    return seen
