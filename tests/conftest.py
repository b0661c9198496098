"""Test-wide set-up: Qt renders off-screen, torch uses one thread (2-core CI), and the run
history of projects without a folder of their own goes to a temporary folder, never $HOME."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a hard dependency
    pass


@pytest.fixture(autouse=True)
def private_data_folder(tmp_path_factory, monkeypatch):
    """Netwright's user data folder (the run history of bundled examples) for this test."""
    folder = tmp_path_factory.mktemp("netwright-data")
    monkeypatch.setenv("NETWRIGHT_DATA_DIR", str(folder))
    return folder


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    """Hand the clipboard back before Qt shuts down (see designer.clipboard.release_clipboard)."""
    import sys

    if "PySide6.QtWidgets" in sys.modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            from designer.clipboard import release_clipboard

            release_clipboard()
