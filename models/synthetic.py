"""Build DeepSeek-Coder-architecture GGUF files with the real tokenizer and synthetic weights.

Model hubs are out of reach in tests and benchmarks, but llama-cpp-python's source distribution
ships DeepSeek-Coder's real tokenizer as a vocab-only GGUF. Combined with random weights it gives
a model that tokenizes, lays out prompts and costs compute exactly like the real one (compute cost
does not depend on the weights' values). Files are cached by their parameters in the user cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from models.catalog import cache_dir

VOCAB_MEMBER = "vendor/llama.cpp/models/ggml-vocab-deepseek-coder.gguf"
# Llama 2's SentencePiece vocabulary, the kind CodeLlama and Mistral models have (a space before each text).
SPM_VOCAB_MEMBER = "vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf"
# llama.cpp's chat-template tests quote the template deepseek-coder-*-instruct carries (from its
# tokenizer_config.json); the instruct test model carries it as `tokenizer.chat_template`.
TEMPLATES_MEMBER = "vendor/llama.cpp/tests/test-chat-template.cpp"
INSTRUCT_NAME = '"deepseek-ai/deepseek-coder-33b-instruct"'
EOT_ID = 32021  # <|EOT|>, the end-of-sequence token of the instruct models


@dataclass(frozen=True)
class Shape:
    """Architecture hyper-parameters of a llama-architecture model."""

    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    quant: str = "Q4_K_M"  # F16, Q8_0, Q4_K_M, ...
    seed: int = 0


TINY = Shape(n_layer=2, n_embd=256, n_ff=512, n_head=4)
DEEPSEEK_1_3B = Shape(n_layer=24, n_embd=2048, n_ff=5504, n_head=16)


def _llama_cpp_version() -> str:
    from importlib.metadata import version

    return version("llama-cpp-python")


def llama_cpp_sdist() -> Path:
    """llama-cpp-python's source distribution (the installed version), downloaded once into the cache.
    It vendors the llama.cpp the project runs: its tokenizer files and `llama-server`'s sources."""
    ver = _llama_cpp_version()
    folder = cache_dir() / "sdist" / ver
    found = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"llama-cpp-python=={ver}", "-d", tmp],
            check=True,
        )
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        os.replace(sdist, folder / sdist.name)
    return folder / sdist.name


def deepseek_vocab() -> Path:
    """Path of DeepSeek-Coder's vocab-only GGUF, extracted once from llama-cpp-python's sdist."""
    return _vocab(VOCAB_MEMBER, "deepseek-coder")


def _vocab(member_path: str, name: str) -> Path:
    """Path of a vocab-only GGUF of llama-cpp-python's sdist, extracted once."""
    ver = _llama_cpp_version()
    target = cache_dir() / "vocab" / f"{name}-{ver}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(llama_cpp_sdist()) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(member_path))
        data = tar.extractfile(member).read()  # type: ignore[union-attr]
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def deepseek_instruct_template() -> str:
    """DeepSeek-Coder-Instruct's chat template (Jinja), read once from llama-cpp-python's sdist."""
    ver = _llama_cpp_version()
    target = cache_dir() / "vocab" / f"deepseek-coder-instruct-{ver}.jinja"
    if target.exists():
        return target.read_text(encoding="utf-8")
    with tarfile.open(llama_cpp_sdist()) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(TEMPLATES_MEMBER))
        source = tar.extractfile(member).read().decode("utf-8")  # type: ignore[union-attr]
    start = source.index(INSTRUCT_NAME)
    literal = re.search(r'template_str=\s*\*/\s*"((?:[^"\\]|\\.)*)"', source[start:])
    if literal is None:
        raise RuntimeError(f"no DeepSeek-Coder-Instruct template in {TEMPLATES_MEMBER} of the sdist")
    template = literal.group(1).encode("latin-1").decode("unicode_escape")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text(template, encoding="utf-8")
    os.replace(partial, target)
    return template


def _read_tokenizer(vocab_path: Path) -> dict:
    import gguf

    reader = gguf.GGUFReader(str(vocab_path))

    def strings(name: str) -> list[str]:
        field = reader.fields[name]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def scalar(name: str):
        field = reader.fields[name]
        return field.parts[field.data[0]].tolist()[0]

    types_field = reader.fields["tokenizer.ggml.token_type"]
    model = bytes(reader.fields["tokenizer.ggml.model"].parts[-1]).decode()
    scores = reader.fields.get("tokenizer.ggml.scores") if model == "llama" else None  # SentencePiece's
    return {
        "tokens": strings("tokenizer.ggml.tokens"),
        "types": [int(types_field.parts[i][0]) for i in types_field.data],
        "merges": strings("tokenizer.ggml.merges") if "tokenizer.ggml.merges" in reader.fields else [],
        "scores": [float(scores.parts[i][0]) for i in scores.data] if scores is not None else [],
        "model": model,
        "pre": bytes(reader.fields["tokenizer.ggml.pre"].parts[-1]).decode(),
        "bos": scalar("tokenizer.ggml.bos_token_id"),
        "eos": scalar("tokenizer.ggml.eos_token_id"),
    }


def _write_f16(path: Path, shape: Shape, tok: dict) -> None:
    import gguf
    import numpy as np

    rng = np.random.default_rng(shape.seed)
    n_vocab = len(tok["tokens"])
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(tok.get("name", "deepseek-coder-synthetic"))
    writer.add_context_length(16384)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(100000.0)
    writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
    writer.add_rope_scaling_factor(4.0)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model(tok["model"])
    writer.add_tokenizer_pre(tok["pre"])
    writer.add_token_list(tok["tokens"])
    writer.add_token_types(tok["types"])
    if tok["merges"]:
        writer.add_token_merges(tok["merges"])
    if tok["scores"]:
        writer.add_token_scores(tok["scores"])
    writer.add_bos_token_id(tok["bos"])
    writer.add_eos_token_id(tok["eos"])
    writer.add_pad_token_id(tok.get("pad", tok["eos"]))
    writer.add_add_bos_token(tok.get("add_bos", True))
    writer.add_add_eos_token(False)
    if tok.get("chat_template"):
        writer.add_chat_template(tok["chat_template"])

    def weight(*dims: int) -> "np.ndarray":
        return (rng.standard_normal(dims, dtype=np.float32) * 0.02).astype(np.float16)

    ones = lambda n: np.ones(n, dtype=np.float32)  # noqa: E731
    writer.add_tensor("token_embd.weight", weight(n_vocab, shape.n_embd))
    for i in range(shape.n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", ones(shape.n_embd))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"blk.{i}.{name}.weight", weight(shape.n_embd, shape.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", ones(shape.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(shape.n_ff, shape.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(shape.n_ff, shape.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(shape.n_embd, shape.n_ff))
    writer.add_tensor("output_norm.weight", ones(shape.n_embd))
    writer.add_tensor("output.weight", weight(n_vocab, shape.n_embd))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _quantize(src: Path, dst: Path, quant: str) -> None:
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{quant}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize to {quant} failed with code {rc}")


def synthetic_sentencepiece(shape: Shape = TINY, add_bos: bool = True) -> Path:
    """Path of a cached llama-architecture F16 GGUF of `shape` with Llama 2's SentencePiece vocabulary (that
    of CodeLlama without its FIM tokens), building it if needed; without `add_bos`, its GGUF says that its
    tokenizer puts no BOS before a text."""
    vocab = _vocab(SPM_VOCAB_MEMBER, "llama-spm")
    parameters = {"shape": asdict(shape), "vocab": vocab.name, **({} if add_bos else {"add_bos": False})}
    key = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    kind = "llama-spm-synthetic" if add_bos else "llama-spm-no-bos-synthetic"
    target = cache_dir() / "synthetic" / f"{kind}-{shape.n_layer}L-{shape.n_embd}-{key.hexdigest()[:16]}.gguf"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".f16.part")
    _write_f16(partial, shape, dict(_read_tokenizer(vocab), name=kind, add_bos=add_bos))
    os.replace(partial, target)
    return target


def synthetic_deepseek(shape: Shape = TINY, instruct: bool = False) -> Path:
    """Path of a cached DeepSeek-Coder-architecture GGUF of `shape`, building it if needed. With
    `instruct`, it is made like the Instruct models: `tokenizer.chat_template` holds their chat
    template and the end-of-sequence token is `<|EOT|>`."""
    vocab = deepseek_vocab()
    template = deepseek_instruct_template() if instruct else None
    parameters = {"shape": asdict(shape), "vocab": vocab.name, "format": 1}
    if template:
        parameters["chat_template"] = template
    key = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]
    kind = "instruct-synthetic" if instruct else "synthetic"
    name = f"deepseek-coder-{kind}-{shape.n_layer}L-{shape.n_embd}-{shape.quant}-{key}.gguf"
    target = cache_dir() / "synthetic" / name
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    f16 = target.with_suffix(".f16.part")
    tokenizer = _read_tokenizer(vocab)
    if template:
        tokenizer.update(name="deepseek-coder-instruct-synthetic", chat_template=template, pad=tokenizer["eos"],
                         eos=EOT_ID)
    _write_f16(f16, shape, tokenizer)
    if shape.quant == "F16":
        os.replace(f16, target)
        return target
    partial = target.with_suffix(".part")
    _quantize(f16, partial, shape.quant)
    f16.unlink()
    os.replace(partial, target)
    return target
