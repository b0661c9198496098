"""Will this import fit in memory? Sized to the machine it runs on, not to a fixed cap.

A real model is big (VGG-19 holds 143 million weights, 575 MB) and a hostile
file can declare a trillion values in a few bytes; both are told apart by
comparing what the file asks for with the memory this machine has free, before
anything is allocated. While it is imported a model's weights are held several
times over (the file's bytes, the parsed file, the arrays, the compiled network,
onnxruntime's copy for the check, the weights file being written): torchvision's
VGG-19 file (548 MiB) peaks at 5.7 times its weights' bytes. The file's bytes and
the parsed file are already in memory when the need is judged, so what is still to
come is the weights times `HELD_COPIES`.
"""

from __future__ import annotations

from pathlib import Path

from engine.system_memory import available_bytes as system_available

HELD_COPIES = 4  # still to come after the file is parsed (measured on VGG-19, above)
_FALLBACK = 8 * 2**30  # when the system will not say


def available_bytes() -> int:
    """Memory this process can still take: the system's available memory, or the container's
    limit when that is lower."""
    free = system_available()
    limit = _cgroup_room()
    candidates = [b for b in (free, limit) if b is not None and b > 0]
    return min(candidates) if candidates else _FALLBACK


def gib(size: float) -> str:
    """A size as people read it: ``2.3 GiB``, ``540 MiB``."""
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:.0f} MiB"


def too_big(need: int) -> str | None:
    """None when `need` bytes fit; otherwise the sentence saying how much is free."""
    free = available_bytes()
    if need <= free:
        return None
    return f"about {gib(need)}, more than the {gib(free)} this machine has free"


def _cgroup_room() -> int | None:
    """What a cgroup (v2, else v1) memory limit still leaves; None without a limit."""
    pairs = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    )
    for limit_file, usage_file in pairs:
        try:
            limit = Path(limit_file).read_text().strip()
            if limit == "max" or int(limit) >= 2**60:
                return None
            return int(limit) - int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
    return None
