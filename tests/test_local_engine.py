"""The in-process engine's tokenization of user text (server/engines/local.py)."""

from __future__ import annotations

from pathlib import Path

from models.synthetic import synthetic_sentencepiece
from server.engines.local import LocalEngine, _log_lines


def test_a_sentencepiece_vocabulary_tokenizes_a_line_as_it_is_inside_the_document() -> None:
    """llama.cpp puts a space before each text it tokenizes with a SentencePiece vocabulary (CodeLlama,
    Mistral). Prompts are tokenized line by line, so every line of such a model's prompt began with one
    more space: "    return x" was read as five spaces, "x" as " x"."""
    engine = LocalEngine(synthetic_sentencepiece(), n_ctx=512)
    try:
        lines = ["def f(x):\n", "    return x\n", "x", ")\n"]
        document = "".join(lines)
        tokens = [engine.tokenize(line) for line in lines]
        assert [b"".join(engine.piece(t) for t in line) for line in tokens] == [line.encode() for line in lines]
        assert [t for line in tokens for t in line] == engine.tokenize(document)
        assert b"".join(engine.piece(t) for t in engine.tokenize("\n\n  y")) == b"\n\n  y"
    finally:
        engine.close()


def test_a_prefix_only_prompt_starts_with_a_bos_only_where_the_models_tokenizer_adds_one() -> None:
    """A model without FIM tokens reads the code before the cursor as plain text, as in training: its
    prompt starts with a BOS only where its GGUF says its tokenizer adds one (every such prompt had one)."""
    for add_bos, bos in ((True, 1), (False, None)):
        engine = LocalEngine(synthetic_sentencepiece(add_bos=add_bos), n_ctx=512)
        try:
            assert engine.info.template.name == "prefix-only"
            assert engine.special.bos == bos, add_bos
        finally:
            engine.close()


def test_flash_attention_auto_is_off_on_a_cpu_for_a_model_without_grouped_heads(deepseek_tiny: Path,
                                                                                gemma_model: Path) -> None:
    """On a CPU with an f16 cache, llama.cpp's plain attention generated in 0.45x flash attention's time for the
    DeepSeek-Coder 1.3B shape (every query head its own key/value head) and in 1.5x for Gemma 3's grouped heads
    (benchmarks.kv_types): "auto" is off for the first only; "on", and a quantized cache (which needs it), keep it."""
    cases = [(deepseek_tiny, "auto", "f16", False), (deepseek_tiny, "on", "f16", True),
             (deepseek_tiny, "auto", "q8_0", True), (gemma_model, "auto", "f16", True),
             (gemma_model, "off", "f16", False)]
    for model, setting, cache, flash in cases:
        engine = LocalEngine(model, n_ctx=2048, flash_attention=setting, kv_cache_type=cache, gpu_layers=0)
        try:
            graphs = list(_log_lines)  # llama.cpp names the op each graph's attention runs as
            assert any("FLASH_ATTN_EXT" in line for line in graphs) == flash, (model.name, setting, cache)
        finally:
            engine.close()
