"""How much memory this machine has free, read the way Linux reports it (no psutil)."""

from __future__ import annotations

import os


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (what can be used without swapping), else the free
    physical pages; None where neither is known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
