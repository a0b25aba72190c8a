"""Shared fixtures: test models built once and cached, and one shared LSP server per model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from tests.lsp_client import LspSession


@pytest.fixture(scope="session")
def deepseek_tiny() -> Path:
    """A DeepSeek-Coder-architecture Q4_K_M model with the real tokenizer and random weights."""
    from models.synthetic import TINY, synthetic_deepseek

    return synthetic_deepseek(TINY)


@pytest.fixture(scope="session")
def gemma_model() -> Path:
    """Gemma 3 270M Q4_K_M: a real trained model (no FIM tokens), assembled once into the cache."""
    from models.small import gemma_270m

    return gemma_270m()


@pytest.fixture()
def stand_in_cache(gemma_model: Path, tmp_path: Path) -> Path:
    """A cache folder holding only the small Gemma, where `deepfim models pull` without the model hub puts it
    (standing in for the catalog's default, which is not there)."""
    from models.catalog import fallback_name, find

    cache = tmp_path / "cache"
    small = find(fallback_name())
    assert small is not None
    target = cache / small.local_path.relative_to(small.local_path.parents[1])
    target.parent.mkdir(parents=True)
    target.symlink_to(gemma_model)
    return cache


@pytest.fixture(scope="module")
def gemma_completer(gemma_model: Path):
    """A completer on Gemma, 2K window, 40 tokens, no hurry: one per test module."""
    from server.completion import open_completer
    from server.settings import Settings

    completer = open_completer(Settings(model=str(gemma_model), context_size=2048, max_tokens=40,
                                        time_budget_ms=600_000))
    yield completer
    completer.engine.close()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "pkg").mkdir()
    return root


@pytest.fixture(scope="session")
def gemma_server(gemma_model: Path, workspace: Path) -> Iterator["LspSession"]:
    from tests.lsp_client import LspSession

    options = {"maxTokens": 64, "contextSize": 4096, "timeBudgetMs": 60000}
    session = LspSession(str(gemma_model), workspace, options=options)
    yield session
    session.close()


@pytest.fixture(scope="session")
def deepseek_server(deepseek_tiny: Path, workspace: Path) -> Iterator["LspSession"]:
    from tests.lsp_client import LspSession

    session = LspSession(str(deepseek_tiny), workspace, options={"maxTokens": 16, "contextSize": 4096})
    yield session
    session.close()
