"""server/settings.py: client settings are merged defensively."""

from server.settings import Settings


def test_merge_camel_case_and_sections() -> None:
    merged = Settings(model="a.gguf").merged({"deepfim": {"maxTokens": 32, "contextSize": 2048, "enabled": False,
                                                          "timeBudgetMs": 900, "lineInPrefix": True}})
    assert (merged.max_tokens, merged.context_size, merged.enabled, merged.time_budget_ms, merged.line_in_prefix) \
        == (32, 2048, False, 900, True)
    assert merged.model == "a.gguf"


def test_bad_values_are_ignored() -> None:
    base = Settings(model="a.gguf")
    merged = base.merged({"model": None, "maxTokens": -3, "contextSize": "big", "enabled": "yes",
                          "threads": 0, "unknown": 1})
    assert merged == base
    assert base.merged(None) == base and base.merged([1, 2]) == base
    assert base.merged({"contextSize": 10**9}).context_size == 131072
    assert base.merged({"maxTokens": 10**6}).max_tokens == 4096
    assert base.merged({"model": " other.gguf "}).model == "other.gguf"
