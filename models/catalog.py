"""The model catalog (catalog.json) and resolution of a MODEL argument to a local file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import platformdirs

HF_BASE = "https://huggingface.co"  # DEEPFIM_HUB overrides it (a mirror)


def cache_dir() -> Path:
    """deepfim's user cache directory (models, vocabularies, test fixtures)."""
    override = os.environ.get("DEEPFIM_CACHE")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("deepfim"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable GGUF file."""

    name: str
    quant: str
    repo: str
    file: str
    approx_size_mb: int
    sha256: Optional[str]
    params: str
    default_quant: bool = False

    @property
    def key(self) -> str:
        """`name:quant`, the spelling `models pull` accepts besides the bare name."""
        return f"{self.name}:{self.quant}"

    @property
    def url(self) -> str:
        base = os.environ.get("DEEPFIM_HUB", HF_BASE).rstrip("/")
        return f"{base}/{self.repo}/resolve/main/{self.file}"

    @property
    def local_path(self) -> Path:
        return models_dir() / self.file


@lru_cache(maxsize=1)
def _catalog() -> tuple[str, tuple[CatalogEntry, ...]]:
    data = json.loads((Path(__file__).parent / "catalog.json").read_text(encoding="utf-8"))
    return data["default"], tuple(CatalogEntry(**entry) for entry in data["models"])


def entries() -> tuple[CatalogEntry, ...]:
    return _catalog()[1]


def default_name() -> str:
    return _catalog()[0]


def find(name: str) -> Optional[CatalogEntry]:
    """The entry for `name` (its default quantization) or `name:QUANT`, or None."""
    base, _, quant = name.partition(":")
    for entry in entries():
        if entry.name == base and (entry.quant == quant if quant else entry.default_quant):
            return entry
    return None


class ModelNotFound(Exception):
    """A MODEL argument that names neither a file nor a downloaded catalog model."""


def resolve(model: Optional[str]) -> Path:
    """Turn a MODEL argument (path or catalog name; None: $DEEPFIM_MODEL, then the default) into a path.

    Raises ModelNotFound with a message that says what to run.
    """
    spec = model or os.environ.get("DEEPFIM_MODEL") or default_name()
    path = Path(spec).expanduser()
    if path.suffix == ".gguf" or os.sep in spec or path.exists():
        if not path.is_file():
            raise ModelNotFound(f"model file {path} does not exist; pass --model with the path of a .gguf "
                                f"file or a catalog name (see `deepfim models list`)")
        return path.resolve()
    entry = find(spec)
    if entry is None:
        names = ", ".join(sorted({e.name for e in entries()}))
        raise ModelNotFound(f"unknown model {spec!r}: not a .gguf path and not in the catalog ({names})")
    if not entry.local_path.is_file():
        raise ModelNotFound(f"model {entry.key} is not downloaded yet; run `deepfim models pull {entry.key}` "
                            f"or pass --model /path/to/a.gguf")
    return entry.local_path
