"""The in-process engine's tokenization of user text (server/engines/local.py)."""

from __future__ import annotations

from models.synthetic import synthetic_sentencepiece
from server.engines.local import LocalEngine


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
