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
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        where = "set DEEPFIM_CACHE to a folder you can write" if override else \
            "free it, or set DEEPFIM_CACHE to a folder you can write"
        raise CacheUnavailable(f"cannot use the cache folder {path}"
                               f"{' (from $DEEPFIM_CACHE)' if override else ''}: {error.strerror or error}; {where}") \
            from None
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
    # Installed from the package registry (pip) instead of the model hub: reachable wherever pip is.
    package: Optional[str] = None
    # No fill-in-the-middle tokens: completes from the code before the cursor only.
    prefix_only: bool = False
    # An instruct model: for code actions (the instructModel setting), not for completions.
    instruct: bool = False

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
def _catalog() -> tuple[str, str, tuple[CatalogEntry, ...]]:
    data = json.loads((Path(__file__).parent / "catalog.json").read_text(encoding="utf-8"))
    return data["default"], data["fallback"], tuple(CatalogEntry(**entry) for entry in data["models"])


def entries() -> tuple[CatalogEntry, ...]:
    return _catalog()[2]


def default_name() -> str:
    return _catalog()[0]


def fallback_name() -> str:
    """The small model served when the default cannot be downloaded (it installs from the package registry)."""
    return _catalog()[1]


def find(name: str) -> Optional[CatalogEntry]:
    """The entry for `name` (its default quantization) or `name:QUANT` (any case: `:q8_0`), or None."""
    base, _, quant = name.partition(":")
    for entry in entries():
        if entry.name == base and (entry.quant.upper() == quant.upper() if quant else entry.default_quant):
            return entry
    return None


def known_names(name: str) -> str:
    """What to offer for `name`, not in the catalog: its model's `name:QUANT` spellings where only the
    quantization is unknown (`deepseek-coder-6.7b-base:Q5_K_M`), else every model's name."""
    base = name.partition(":")[0]
    return ", ".join([entry.key for entry in entries() if entry.name == base]
                     or sorted({entry.name for entry in entries()}))


class ModelNotFound(Exception):
    """A MODEL argument that names neither a file nor a downloaded catalog model."""


class CacheUnavailable(ModelNotFound):
    """deepfim's cache folder cannot be made or used (models are looked up there)."""


def resolve(model: Optional[str], setting: Optional[str] = None) -> Path:
    """Turn a MODEL argument (path or catalog name; None: $DEEPFIM_MODEL, then the default) into a path.

    Raises ModelNotFound with a message that says what to run, and what to set: `--model`, or the
    `setting` the model came from (`instructModel`).
    """
    if setting:
        fix, alternative = f"set {setting} to the path of a .gguf", f"or set {setting} to /path/to/a.gguf"
    else:  # phrases the editors' tests look for
        fix, alternative = "pass --model with the path of a .gguf", "or pass --model /path/to/a.gguf"
    spec = model or os.environ.get("DEEPFIM_MODEL") or default_name()
    # Named by the environment, not by the user's command or setting: say so, or they look for it in vain.
    origin, unset = (" (from $DEEPFIM_MODEL)", "change or unset DEEPFIM_MODEL") \
        if not model and os.environ.get("DEEPFIM_MODEL") else ("", "")
    if spec == default_name() and not model and not os.environ.get("DEEPFIM_MODEL"):
        default, small = find(default_name()), find(fallback_name())
        if default and small and not default.local_path.is_file() and small.local_path.is_file():
            return small.local_path
    path = Path(spec).expanduser()
    if path.suffix == ".gguf" or os.sep in spec or path.exists():
        if not path.is_file():
            what = "is a folder, not a .gguf file" if path.is_dir() else "does not exist"
            raise ModelNotFound(f"model file {path}{origin} {what}; {fix} "
                                f"file or a catalog name (see `deepfim models list`)" + (unset and f", or {unset}"))
        return path.resolve()
    entry = find(spec)
    if entry is None:
        raise ModelNotFound(f"unknown model {spec!r}{origin}: not a .gguf path and not in the catalog "
                            f"({known_names(spec)})"
                            + (unset and f"; {unset}"))
    if not entry.local_path.is_file():
        from models.download import DownloadError, installed, pull  # models.download imports this module

        if installed(entry):  # its package is installed: it is put into the cache from there, no network
            try:
                return pull(entry)
            except DownloadError as error:
                raise ModelNotFound(str(error)) from None
        raise ModelNotFound(f"model {entry.key}{origin} is not downloaded yet; run `deepfim models pull {entry.key}` "
                            f"{alternative}" + (unset and f", or {unset}"))
    return entry.local_path


def fallback_notice(model: Optional[str], path: Path) -> Optional[str]:
    """What to tell the user when `path`, resolved from the MODEL argument `model`, is the small
    fallback model standing in for the default (not when the small model was asked for)."""
    if model or os.environ.get("DEEPFIM_MODEL"):
        return None
    default, small = find(default_name()), find(fallback_name())
    if default is None or small is None or path != small.local_path or default.local_path.is_file():
        return None
    return (f"{default.name} is not downloaded, so the small {small.name} model serves instead: it completes from "
            f"the code before the cursor only (prefix-only). Run `deepfim models pull` where the model hub can "
            f"be reached, or set the model to a .gguf file")
