"""How much memory a context window needs, and how much this process may still take.

llama.cpp aborts the whole process (a failed GGML_ASSERT) when some allocations fail, so a window
too large for the machine must be refused before llama.cpp tries it, not caught afterwards.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

MARGIN_BYTES = 256 << 20  # left free for the rest of the process (Python, buffers, the OS)


@dataclass(frozen=True)
class AttentionShape:
    """What sizes a context's buffers: the model's layers and attention width."""

    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    kv_bytes: float = 2.0  # per cached element: f16 2, q8_0 34/32, q4_0 18/32

    def window_bytes(self, n_ctx: int, n_ubatch: int) -> int:
        """KV cache (keys and values) plus the attention scores of one micro-batch (f32)."""
        n_embd_kv = self.n_embd // max(1, self.n_head) * self.n_head_kv
        kv = int(2 * self.n_layer * n_ctx * n_embd_kv * self.kv_bytes)
        scores = n_ubatch * n_ctx * self.n_head * 4
        return kv + scores


def affordable_window(wanted: int, shape: AttentionShape, n_ubatch: int, available: Optional[int],
                      minimum: int) -> int:
    """The largest of `wanted`, `wanted`/2, ... (not below `minimum`) whose buffers fit in
    `available` bytes less a margin; `wanted` when nothing is known about free memory."""
    if available is None:
        return wanted
    n_ctx = wanted
    while n_ctx > minimum and shape.window_bytes(n_ctx, n_ubatch) + MARGIN_BYTES > available:
        n_ctx = max(minimum, n_ctx // 2)
    return n_ctx


def available_bytes() -> Optional[int]:
    """Memory this process can still allocate: the least of the system's available memory, the
    cgroup's remaining limit and the address-space limit; None when none can be read."""
    limits: list[int] = []
    meminfo = _read("/proc/meminfo")
    if meminfo:
        for line in meminfo.splitlines():
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
    cgroup_max, cgroup_now = _read("/sys/fs/cgroup/memory.max"), _read("/sys/fs/cgroup/memory.current")
    if cgroup_max and cgroup_now and cgroup_max.strip().isdigit() and cgroup_now.strip().isdigit():
        limits.append(int(cgroup_max) - int(cgroup_now))
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        status = _read(f"/proc/{os.getpid()}/status") or ""
        used = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:")), 0)
        limits.append(soft - used)
    return max(0, min(limits)) if limits else None


def _read(path: str) -> Optional[str]:
    try:
        return Path(path).read_text()
    except OSError:
        return None
