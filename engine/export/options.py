"""Export settings the command line needs before torch is imported (keeps `--help` quick)."""

from __future__ import annotations

DEFAULT_OPSET = 17
MIN_OPSET = 9
MAX_OPSET = 20  # the newest opset both torch exporters write
