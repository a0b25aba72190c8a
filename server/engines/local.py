"""The in-process engine: one GGUF model and one llama context, driven through llama.cpp's C API.

Only the worker thread that created an Engine may call it. The engine keeps track of which
tokens its KV cache holds and, for each new prompt, reuses the longest common prefix and then
shifts later chunks that are still valid into place (llama.cpp server's `n_cache_reuse`, and past new
text too: `server.engines.kvplan`), so a keystroke only pays for the tokens that changed.
"""

from __future__ import annotations

import ctypes
import math
import time
from collections import deque
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Optional

import llama_cpp
import numpy as np

from fim.prompt import SpecialIds
from fim.templates import FimTemplate, select_template
from server.cpu import Threads, physical_cores
from server.engines.base import (Cancelled, EngineClosed, Generation, ModelInfo, ModelLoadError, Progress,
                                 common_prefix, plain_parts, space_probe)
from server.engines.heal import HealIndex
from server.engines.kvplan import Block, plan
from server.memory import MARGIN_BYTES, AttentionShape, affordable_window, available_bytes

GGUF_MAGIC = b"GGUF"
# KV sequences: the full window, a short prompt for a first answer, and the old window's chunks that
# go after new text while that text is read (`kvplan`).
MAIN, QUICK, STASH = 0, 1, 2
QUICK_CELLS = 1024  # KV cells kept for the short prompt and its answer, beyond the window
ALL_LAYERS = 100_000
# Prompt tokens per llama_decode call (and the most a cancellation waits for): 256 on the CPU, 512
# with every layer on a GPU. H200, 1.3B shape, a 15K-token prompt then 64 tokens (benchmarks/on_gpu.sh):
# read at 15.0K tokens/s in batches of 256, 17.7K in 512, 22.7K in 1024; generated at 405, 403 and
# 344 tokens/s. Typing generates far more than it reads: 512 reads faster and generates as fast.
CPU_BATCH, GPU_BATCH = 256, 512

# Of the load progress shown, reading the file; the rest goes to the measurements after it (the read
# speed, the token index for healing, the batch costs), 1-3 s on 2 cores where the file took 0.5 s.
FILE_SHARE = 0.5
FLASH_ATTENTION = {"auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO, "on": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
                   "off": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED}
KV_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0, "q4_0": llama_cpp.GGML_TYPE_Q4_0}
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}  # bytes per cached element (blocks of 32)
MIN_CTX = 2048


_log_lines: deque[str] = deque(maxlen=200)


@llama_cpp.llama_log_callback
def _log_callback(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
    _log_lines.append(text.decode("utf-8", "replace").rstrip())


_backend_ready = False


def _init_backend() -> None:
    global _backend_ready
    if not _backend_ready:
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _backend_ready = True


def check_gguf_file(path: Path, setting: Optional[str] = None) -> None:
    """Raise ModelLoadError when `path` is missing, empty or not a GGUF file; the message says to fix
    `--model`, or the `setting` the path came from (`instructModel`)."""
    fix, point = (f"set {setting} to /path/to/model.gguf", f"point {setting} at a .gguf file") if setting else \
        ("pass --model /path/to/model.gguf", "point --model at a .gguf file")  # phrases the editors' tests look for
    if not path.is_file():
        raise ModelLoadError(f"model file {path} does not exist; {fix} "
                             f"or run `deepfim models pull deepseek-coder-1.3b-base`")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"{path} is not a GGUF model file (it does not start with 'GGUF'); "
                             f"{point} such as deepseek-coder-1.3b-base.Q4_K_M.gguf")


def _last_errors() -> str:
    errors = [line for line in _log_lines if "error" in line.lower() or "failed" in line.lower()]
    return "; ".join(errors[-3:])


class LocalEngine:
    """A loaded model with one context and a KV cache tracked token by token (in-process llama.cpp)."""

    heals = True
    first_answers = True
    quick_cells = QUICK_CELLS

    def __init__(self, path: Path, n_ctx: int = 16384, n_threads: Optional[int] = None,
                 n_batch: Optional[int] = None, progress: Optional[Callable[[float], None]] = None,
                 cache_reuse_min: int = 16, gpu_layers: Optional[int] = None, flash_attention: str = "auto",
                 kv_cache_type: str = "f16") -> None:
        _init_backend()
        check_gguf_file(path)
        self.cache_reuse_min = cache_reuse_min
        self._progress_cb = None
        mparams = llama_cpp.llama_model_default_params()
        # Every layer on the GPU when llama.cpp was built with a GPU backend (CUDA, Metal, Vulkan, ROCm).
        self.gpu_layers = gpu_layers if gpu_layers is not None else (
            ALL_LAYERS if llama_cpp.llama_supports_gpu_offload() else 0)
        mparams.n_gpu_layers = self.gpu_layers
        self.flash_attention = flash_attention
        self.kv_cache_type = kv_cache_type
        # On CPUs with AMX, llama.cpp's extra buffer types crash llama_decode for K-quants and
        # Q4_0/Q8_0; without them the same weights run on the regular CPU kernels.
        mparams.use_extra_bufts = False
        if progress is not None:
            def on_progress(value: float, _user: ctypes.c_void_p) -> bool:
                progress(float(value) * FILE_SHARE)
                return True

            self._progress_cb = llama_cpp.llama_progress_callback(on_progress)
            mparams.progress_callback = self._progress_cb
        _log_lines.clear()
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            detail = _last_errors() or "see the llama.cpp log"
            raise ModelLoadError(f"llama.cpp could not load {path}: the file is truncated, corrupt or of an "
                                 f"unsupported architecture ({detail}); download it again or use another GGUF")
        self._model = model
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._probe = space_probe([(t, self.piece(t)) for t in self._tokenize_raw("\n")])
        on_gpu = llama_cpp.llama_supports_gpu_offload() and self.gpu_layers >= llama_cpp.llama_model_n_layer(model)
        self.n_batch = n_batch or (GPU_BATCH if on_gpu else CPU_BATCH)
        threads = n_threads or physical_cores()
        step = progress or (lambda value: None)  # the measurements after the file: seconds on a CPU
        self._ctx, warnings = self._create_context(n_ctx, threads)
        step(0.6)
        # Fewer threads while other processes keep the cores busy, unless the user chose a count.
        self._threads = Threads(threads, fixed=n_threads is not None)
        self._n_threads = threads
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._can_shift = bool(llama_cpp.llama_memory_can_shift(self._memory))
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        self._cached: list[int] = []  # the tokens sequence MAIN holds
        # The old tokens sequence STASH holds, at positions from `_stash_pos` on: those to go after new
        # text being read (kept when that reading gives way to a keystroke).
        self._stash: list[int] = []
        self._stash_pos = 0
        self._quick: list[int] = []  # the tokens sequence QUICK holds (the last short prompt)
        self.read_rate = 1.0
        self.read_rate = self._measure_read_rate()
        step(0.7)
        self._heal_index = HealIndex(self._all_pieces())  # built here, not on the first completion
        self._heal_cache: dict[bytes, np.ndarray] = {}
        step(0.85)
        self._draft_pace = self._timed_pace()  # lookup decoding's costs and acceptance, kept across generations
        step(1.0)
        architecture = self.meta("general.architecture") or "unknown"
        template = select_template(self.has_token, architecture)
        self.info = ModelInfo(
            source=str(path),
            name=self.meta("general.name") or path.stem,
            architecture=architecture,
            template=template,
            n_ctx=llama_cpp.llama_n_ctx(self._ctx) - QUICK_CELLS,
            warnings=warnings,
        )
        n_ctx_train = llama_cpp.llama_model_n_ctx_train(model)
        if 0 < n_ctx_train < self.info.n_ctx:
            self.info.warnings.append(
                f"{self.info.name} was trained on {n_ctx_train}-token windows; a {self.info.n_ctx}-token window "
                f"goes beyond it and completions may degrade (set contextSize to {n_ctx_train} or less)")
        if template.name.startswith("deepseek") and self.meta("tokenizer.ggml.pre") != "deepseek-coder":
            self.info.warnings.append(
                f"{path.name} has no `tokenizer.ggml.pre = deepseek-coder` (converted before April 2024): "
                f"tokenization differs from training and completions will be worse; use a newer conversion")
        self.special = self._special_ids(template)
        self._stop_ids = {self.token_id(text) for text in template.stop_tokens} - {None}

    # ----------------------------------------------------------------- set-up
    def _create_context(self, n_ctx: int, threads: int) -> tuple[ctypes.c_void_p, list[str]]:
        warnings: list[str] = []
        wanted = n_ctx
        model = self._model
        shape = AttentionShape(llama_cpp.llama_model_n_layer(model), llama_cpp.llama_model_n_embd(model),
                               llama_cpp.llama_model_n_head(model), llama_cpp.llama_model_n_head_kv(model),
                               KV_BYTES[self.kv_cache_type])
        # The KV cache of offloaded layers lives in GPU memory, which llama.cpp checks itself.
        available = available_bytes() if self.gpu_layers == 0 else None
        # llama.cpp aborts the process on some failed allocations: stay within free memory.
        n_ctx = affordable_window(n_ctx + QUICK_CELLS, shape, self.n_batch, available, MIN_CTX) - QUICK_CELLS
        if available is not None and shape.window_bytes(n_ctx + QUICK_CELLS, self.n_batch) + MARGIN_BYTES > available:
            raise ModelLoadError(f"not enough memory for even a {n_ctx}-token window "
                                 f"({available >> 20} MiB free, about "
                                 f"{(shape.window_bytes(n_ctx + QUICK_CELLS, self.n_batch) + MARGIN_BYTES) >> 20} "
                                 f"MiB needed); free memory or use a smaller model")
        while True:
            cparams = llama_cpp.llama_context_default_params()
            cparams.n_ctx = n_ctx + QUICK_CELLS
            cparams.n_batch = self.n_batch
            cparams.n_ubatch = self.n_batch
            cparams.n_seq_max = 3  # MAIN, QUICK and STASH share the cells
            cparams.kv_unified = True
            cparams.n_threads = threads
            cparams.n_threads_batch = threads
            cparams.no_perf = True
            cparams.flash_attn_type = FLASH_ATTENTION[self._attention(shape)]
            cparams.type_k = cparams.type_v = KV_TYPES[self.kv_cache_type]
            ctx = llama_cpp.llama_init_from_model(self._model, cparams)
            if ctx:
                if n_ctx != wanted:
                    warnings.append(f"not enough memory for a {wanted}-token window; using {n_ctx} tokens "
                                    f"(set contextSize lower or free memory)")
                return ctx, warnings
            if n_ctx <= MIN_CTX:
                detail = _last_errors() or "out of memory?"
                raise ModelLoadError(f"llama.cpp could not create a context of {n_ctx} tokens ({detail}); "
                                     f"free memory or use a smaller model")
            n_ctx = max(MIN_CTX, n_ctx // 2)

    def _attention(self, shape: AttentionShape) -> str:
        """`flashAttention` as llama.cpp gets it: "auto" is off on a CPU with an f16 cache for a model whose every
        query head has a key/value head of its own (no GQA: DeepSeek-Coder 1.3B and 6.7B, CodeLlama 7B and 13B),
        where llama.cpp's plain attention generated in 0.45x flash attention's time with 8,000 tokens in the window
        (the 1.3B shape, 1 thread of a busy machine; 2 threads of a quiet one: the same) while Gemma 3's grouped
        heads took 1.5x (`python -m benchmarks.kv_types`);
        llama.cpp's own choice elsewhere (a GPU, a quantized cache, grouped heads)."""
        on_cpu = self.gpu_layers == 0 or not llama_cpp.llama_supports_gpu_offload()
        ungrouped = shape.n_head_kv == shape.n_head
        if self.flash_attention == "auto" and on_cpu and self.kv_cache_type == "f16" and ungrouped:
            return "off"
        return self.flash_attention

    def meta(self, key: str) -> Optional[str]:
        buf = ctypes.create_string_buffer(512)
        n = llama_cpp.llama_model_meta_val_str(self._model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", "replace") if n >= 0 else None

    def _special_ids(self, template: FimTemplate) -> SpecialIds:
        bos = llama_cpp.llama_vocab_bos(self._vocab)
        return SpecialIds(
            bos=bos if bos >= 0 and template.starts_with_bos(lambda: llama_cpp.llama_vocab_get_add_bos(self._vocab))
            else None,
            prefix=self.token_id(template.prefix_token),
            suffix=self.token_id(template.suffix_token),
            middle=self.token_id(template.middle_token),
            file_separator=self.token_id(template.file_separator),
        )

    # -------------------------------------------------------------- vocabulary
    def tokenize(self, text: str) -> list[int]:
        """Tokenize user text as plain text: special-token spellings stay ordinary text."""
        if self._model is None:
            raise EngineClosed("the model was unloaded")
        return [token for part in plain_parts(text) for token in self._tokenize(part)]

    def tokenize_many(self, texts: list[str]) -> None:
        return None  # in-process, a call per text costs no more

    def _tokenize(self, text: str) -> list[int]:
        """`text`'s tokens as they are inside a document: without the space a SentencePiece vocabulary
        puts before each text (tokenized line by line, every line would start with one more space)."""
        probe = self._probe
        if not probe:
            return self._tokenize_raw(text)
        tokens = self._tokenize_raw("\n" + text)
        if tuple(tokens[:len(probe)]) != probe:
            return self._tokenize_raw(text)  # the line break merged with the text: as it comes
        return tokens[len(probe):]

    def _tokenize_raw(self, text: str) -> list[int]:
        data = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode("utf-8")
        size = len(data) + 16
        buf = (llama_cpp.llama_token * size)()
        n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, size, False, False)
        if n < 0:
            size = -n
            buf = (llama_cpp.llama_token * size)()
            n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, size, False, False)
        return list(buf[:n])

    def piece(self, token: int, special: bool = False) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, special)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buf, len(buf), 0, special)
        return buf.raw[:n]

    def _all_pieces(self) -> list[bytes]:
        """The text of every token (a quarter second for a 262K vocabulary: one buffer for all)."""
        buf = ctypes.create_string_buffer(256)
        to_piece, vocab, pieces = llama_cpp.llama_token_to_piece, self._vocab, []
        for token in range(self.n_vocab):
            n = to_piece(vocab, token, buf, len(buf), 0, False)
            pieces.append(ctypes.string_at(buf, n) if n > 0 else self.piece(token) if n < 0 else b"")
        return pieces

    def token_text(self, token: int) -> str:
        return self.piece(token, special=True).decode("utf-8", "replace")

    def token_id(self, text: Optional[str]) -> Optional[int]:
        """The id of `text` when it is exactly one token of the vocabulary (special or not)."""
        if not text:
            return None
        data = text.encode("utf-8")
        buf = (llama_cpp.llama_token * 8)()
        n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, 8, False, True)
        if n == 1 and self.token_text(buf[0]) == text:
            return int(buf[0])
        return None

    def has_token(self, text: str) -> bool:
        return self.token_id(text) is not None

    def is_stop(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token)) or token in self._stop_ids

    # ------------------------------------------------------------------ KV cache
    def kv_cache_bytes(self) -> int:
        """Size of an f16 KV cache for the whole window (keys and values, every layer)."""
        n_layer = llama_cpp.llama_model_n_layer(self._model)
        n_head = max(1, llama_cpp.llama_model_n_head(self._model))
        head_dim = llama_cpp.llama_model_n_embd(self._model) // n_head
        n_head_kv = llama_cpp.llama_model_n_head_kv(self._model)
        return 2 * n_layer * self.info.n_ctx * n_head_kv * head_dim * 2

    @property
    def cached_tokens(self) -> int:
        return len(self._cached)

    def forget(self) -> None:
        """Empty the KV cache, every sequence: the next prompt, short or full, is read from its start, as
        after loading (benchmarks comparing two runs of one prompt start each from here)."""
        if self._ctx is None:
            raise EngineClosed("the model was unloaded")
        llama_cpp.llama_memory_clear(self._memory, True)
        self._cached, self._stash, self._quick = [], [], []
        self._stash_pos = 0

    def _reusable(self, prompt: list[int]) -> tuple[int, list[Block]]:
        """How many leading tokens of `prompt` the KV cache holds, and the chunks of its old tokens
        after them (MAIN's, then STASH's) that go to later places in the prompt (`kvplan.plan`)."""
        held = common_prefix(self._cached, prompt)
        if not self._can_shift or self.cache_reuse_min <= 0:
            return held, []
        old = self._cached[held:] + self._stash
        return held, plan(old, prompt, held, self.cache_reuse_min, self.info.n_ctx)

    def _reuse(self, prompt: list[int]) -> tuple[int, list[Block]]:
        """Keep the common prefix in MAIN and the old tokens after it in STASH, in order from its end:
        return the prefix's length and the chunks to place as the prompt is read (`_place`)."""
        held, blocks = self._reusable(prompt)
        if held == len(prompt) and held > 0:
            held -= 1  # the last token must be decoded again to get its logits
        keep = blocks[-1].old + blocks[-1].length if blocks else 0
        # STASH's tokens follow MAIN's old ones: moved to start where those end, then MAIN's join them.
        if self._stash and keep > len(self._cached) - held:
            self._shift_stash(len(self._cached))
            if len(self._cached) > held:
                llama_cpp.llama_memory_seq_cp(self._memory, MAIN, STASH, held, -1)
            self._stash[:0] = self._cached[held:]
            self._stash_pos = held
        else:
            self._drop_stash()
            if keep:
                llama_cpp.llama_memory_seq_cp(self._memory, MAIN, STASH, held, held + keep)
                self._stash, self._stash_pos = self._cached[held:held + keep], held
        if not llama_cpp.llama_memory_seq_rm(self._memory, MAIN, held, -1):
            llama_cpp.llama_memory_clear(self._memory, True)  # every sequence: the short prompt's too
            self._quick, self._stash, blocks = [], [], []
            held = 0
        del self._cached[held:]
        self._drop_stash_from(keep)
        return held, blocks

    def _shift_stash(self, position: int) -> None:
        """Move STASH's tokens to start at `position`."""
        if self._stash and position != self._stash_pos:
            llama_cpp.llama_memory_seq_add(self._memory, STASH, self._stash_pos, -1, position - self._stash_pos)
        self._stash_pos = position

    def _drop_stash_from(self, index: int) -> None:
        """Free STASH's tokens from its `index`th on."""
        if index < len(self._stash):
            llama_cpp.llama_memory_seq_rm(self._memory, STASH, self._stash_pos + index, -1)
            del self._stash[index:]

    def _drop_stash(self) -> None:
        if self._stash:
            llama_cpp.llama_memory_seq_rm(self._memory, STASH, -1, -1)
        self._stash = []

    def _free_old(self, index: int, taken: int) -> None:
        """Free STASH's old tokens before old index `index` (its first `taken` are gone already)."""
        skip = index - taken
        if skip > 0:
            llama_cpp.llama_memory_seq_rm(self._memory, STASH, self._stash_pos, self._stash_pos + skip)
            del self._stash[:skip]
            self._stash_pos += skip

    def _place(self, block: Block) -> None:
        """Move `block`, STASH's first tokens, into MAIN at `block.prompt`, where MAIN ends."""
        self._shift_stash(block.prompt)
        end = block.prompt + block.length
        llama_cpp.llama_memory_seq_cp(self._memory, STASH, MAIN, block.prompt, end)
        llama_cpp.llama_memory_seq_rm(self._memory, STASH, block.prompt, end)
        self._cached.extend(self._stash[:block.length])
        del self._stash[:block.length]
        self._stash_pos = end

    def _decode(self, tokens: list[int], start: int, rows: int = 1, seq: int = MAIN) -> None:
        """Evaluate `tokens` at positions `start`... of sequence `seq`; logits are kept for the last
        `rows` of them."""
        batch = self._batch
        n = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = i >= n - rows
        batch.n_tokens = n
        threads = self._threads.now()
        if threads != self._n_threads:
            llama_cpp.llama_set_n_threads(self._ctx, threads, threads)
            self._n_threads = threads
        started = time.perf_counter()
        rc = llama_cpp.llama_decode(self._ctx, batch)
        if rc != 0:
            llama_cpp.llama_memory_seq_rm(self._memory, seq, start, -1)
            raise RuntimeError(f"llama_decode failed with code {rc} (KV cache full or invalid batch)")
        if n >= 64 and seq == MAIN:  # prompt reading speed, for sizing first answers, as windows are read
            # (a short prompt's reads and the short tails of a window's would make it look slower)
            self.read_rate = 0.7 * self.read_rate + 0.3 * n / max(1e-6, time.perf_counter() - started)
        if seq == MAIN:
            self._cached.extend(tokens)

    def _measure_read_rate(self) -> float:
        """Prompt tokens read per second, measured at load on batches of 64 (the first pays for
        setting up, so the better of two)."""
        best = 0.0
        for _ in range(2):
            started = time.perf_counter()
            self._decode([0] * 64, 0, rows=1, seq=QUICK)
            llama_cpp.llama_memory_seq_rm(self._memory, QUICK, 0, -1)
            best = max(best, 64 / max(1e-6, time.perf_counter() - started))
        return best

    def _timed_pace(self) -> _DraftPace:
        """A pace that knows this machine's costs: a plain step and lookup decoding's verification
        batches timed at load, smallest first, until no larger batch could pay; two rounds, the
        better time of each (a busy moment on the machine spoils one). The first completions then
        neither try batch sizes that cost more than they save here nor wait for a step to be timed."""
        context = 64
        self._decode([0] * context, 0, rows=1, seq=QUICK)
        best: dict[int, float] = {}
        try:
            for _ in range(2):
                for rows in (1,) + tuple(size + 1 for size in DRAFT_SIZES):
                    if rows > 1 and rows not in best and not _DraftPace.timed(best).size(DRAFT_TOKENS, MATCH_MAX):
                        break
                    started = time.perf_counter()
                    self._decode([0] * rows, context, rows=rows, seq=QUICK)
                    best[rows] = min(best.get(rows, math.inf), (time.perf_counter() - started) * 1000)
                    llama_cpp.llama_memory_seq_rm(self._memory, QUICK, context, -1)
        finally:
            llama_cpp.llama_memory_seq_rm(self._memory, QUICK, 0, -1)
        return _DraftPace.timed(best)

    def answering(self, time_budget_s: Optional[float]) -> ContextManager[None]:
        """Nothing to bound in-process: tokenizing takes no waiting on anyone."""
        return nullcontext()

    def missing(self, prompt: list[int]) -> int:
        """Prompt tokens the full window does not hold yet, counting what shifting it can reuse (a
        lower bound on what reading it costs)."""
        held, blocks = self._reusable(prompt)
        return len(prompt) - held - sum(block.length for block in blocks)

    def prefill(self, prompt: list[int], cancelled: Callable[[], bool],
                progress: Optional[Progress] = None, batch: Optional[int] = None) -> tuple[int, int]:
        """Bring the KV cache to hold `prompt` (perhaps followed by an answer generated after it);
        return (reused, evaluated). Raises Cancelled. `progress(held, total)` hears of each batch read
        (tokens of `prompt` the cache holds); `batch` (at most n_batch) sets how often `cancelled` is
        asked (background reading gives way to a keystroke sooner in small batches)."""
        if self._ctx is None:
            raise EngineClosed("the model was unloaded")
        held, blocks = self._reusable(prompt)
        if prompt and held == len(prompt) and not blocks:
            self._drop_stash()
            # Read already (a pause after a keystroke whose completion was answered): the logits of its
            # last token, which `_reuse` would decode again, are the generation's to get (`_read`).
            # That decode held the model 110-140 ms after every answer on 2 cores (1.3B shape), and
            # the next keystroke waited for it.
            if progress is not None:
                progress(held, len(prompt))
            return held, 0
        return self._read(prompt, cancelled, progress, batch)

    def _read(self, prompt: list[int], cancelled: Callable[[], bool], progress: Optional[Progress] = None,
              batch: Optional[int] = None) -> tuple[int, int]:
        """`prefill`'s reading: the KV cache holds exactly `prompt` after it, with the logits of its
        last token (decoded again where the cache held it already)."""
        if self._ctx is None:
            raise EngineClosed("the model was unloaded")
        if len(prompt) >= self.info.n_ctx:
            raise ValueError(f"prompt of {len(prompt)} tokens does not fit the {self.info.n_ctx}-token window")
        held, blocks = self._reuse(prompt)
        size = min(batch or self.n_batch, self.n_batch)
        pos, taken, reused = held, 0, held
        for block in blocks:  # new text, then an old chunk after it
            self._free_old(block.old, taken)  # before the new text takes cells
            for pos, end in _spans(pos, block.prompt, size):
                if cancelled():
                    raise Cancelled()
                self._decode(prompt[pos:end], pos, rows=0)
                if progress is not None:
                    progress(end, len(prompt))
            self._place(block)
            pos, taken = block.prompt + block.length, block.old + block.length
            reused += block.length
        for pos, end in _chunks(pos, len(prompt), size):
            if cancelled():
                raise Cancelled()
            self._decode(prompt[pos:end], pos, rows=int(end == len(prompt)))
            if progress is not None:  # of the whole window: a reading resumed counts what it holds
                progress(end, len(prompt))
        return reused, len(prompt) - reused

    def _argmax(self, pending: bytes = b"", row: int = -1) -> int:
        """The greedy token from the logits of batch position `row` (the last by default)."""
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, row), shape=(self.n_vocab,))
        if not pending:
            return int(np.argmax(logits))
        allowed = self._heal_candidates(pending)
        return int(allowed[np.argmax(logits[allowed])])

    def _heal_candidates(self, pending: bytes) -> np.ndarray:
        """Tokens whose text starts with `pending`, or is a start of it (token healing)."""
        cached = self._heal_cache.get(pending)
        if cached is None:
            cached = self._heal_index.candidates(pending)
            if len(self._heal_cache) > 64:
                self._heal_cache.clear()
            self._heal_cache[pending] = cached
        return cached

    def generate(self, prompt: list[int], max_tokens: int, cancelled: Callable[[], bool],
                 stop_at: Callable[[str], Optional[int]] = lambda text: None,
                 time_budget_s: Optional[float] = None, heal: bytes = b"", lookup: bool = False,
                 progress: Optional[Progress] = None, quick: bool = False) -> Generation:
        """Evaluate `prompt`, then decode greedily until a stop token, `stop_at`, the cap or the time
        budget (counted from the end of prompt evaluation: reading a long prompt never leaves no
        time to generate).

        `heal` is the text of prompt tokens the caller removed from the end of the prompt (token
        healing): the first generated tokens are constrained to reproduce it, and it is not part
        of the returned text. This lets a completion continue a half-typed word naturally.

        With `lookup`, a step may also evaluate up to DRAFT_TOKENS draft tokens that follow an
        earlier occurrence of the last few tokens in the prompt or the output (prompt-lookup
        decoding) in the same batch; the drafts greedy decoding agrees with are kept, so the output
        is the greedy output, reached in fewer steps when code repeats itself. The engine's
        _DraftPace drafts only as much as its timings of this machine's batches say pays.

        With `quick`, `prompt` (a short one, at most QUICK_CELLS less the answer) is read into a
        sequence of its own, which keeps it for the next short prompt (a keystroke later, it shares
        all but the end) until the full window is used: the window the KV cache holds stays as it is.

        `stop_at(text)` sees the text generated so far and returns the length to keep when the
        answer is complete. `cancelled()` is checked after every token; on cancellation the
        Generation so far is returned with stop_reason "cancelled".
        """
        result = Generation()
        t0 = time.perf_counter()
        seq = QUICK if quick else MAIN
        try:
            if quick:
                result.prompt_tokens_evaluated = self._read_quick(prompt, cancelled)
                result.prompt_tokens_reused = len(prompt) - result.prompt_tokens_evaluated
            else:
                self._drop_quick()
                result.prompt_tokens_reused, result.prompt_tokens_evaluated = self._read(prompt, cancelled,
                                                                                           progress)
        except Cancelled:
            result.stop_reason = "cancelled"
            result.prompt_ms = (time.perf_counter() - t0) * 1000
            return result
        try:
            return self._generate(result, prompt, max_tokens, cancelled, stop_at, time_budget_s, heal, lookup, seq,
                                  t0)
        finally:
            if quick and self._ctx is not None:
                llama_cpp.llama_memory_seq_rm(self._memory, QUICK, len(self._quick), -1)  # the answer

    def _read_quick(self, prompt: list[int], cancelled: Callable[[], bool]) -> int:
        """Bring sequence QUICK to hold `prompt`, reading only what differs from the last short
        prompt (its last token at least, for its logits); the tokens evaluated."""
        if self._ctx is None:
            raise EngineClosed("the model was unloaded")
        common = common_prefix(self._quick, prompt, len(prompt) - 1)
        llama_cpp.llama_memory_seq_rm(self._memory, QUICK, common, -1)
        del self._quick[common:]
        for pos, end in _chunks(common, len(prompt), self.n_batch):
            if cancelled():
                raise Cancelled()
            self._decode(prompt[pos:end], pos, rows=int(end == len(prompt)), seq=QUICK)
            self._quick.extend(prompt[pos:end])
        return len(prompt) - common

    def _drop_quick(self) -> None:
        """Free sequence QUICK's cells once the full window is used."""
        if self._quick and self._ctx is not None:
            llama_cpp.llama_memory_seq_rm(self._memory, QUICK, 0, -1)
            self._quick = []

    def _generate(self, result: Generation, prompt: list[int], max_tokens: int, cancelled: Callable[[], bool],
                  stop_at: Callable[[str], Optional[int]], time_budget_s: Optional[float], heal: bytes,
                  lookup: bool, seq: int, t0: float) -> Generation:
        """The greedy loop after the prompt is read into sequence `seq`."""
        t1 = time.perf_counter()
        result.prompt_ms = (t1 - t0) * 1000
        deadline = None if time_budget_s is None else time.monotonic() + time_budget_s
        limit = min(max_tokens, (QUICK_CELLS if seq == QUICK else self.info.n_ctx) - len(prompt) - 1)
        n_past = len(prompt)
        state = {"raw": b"", "pending": heal}
        history = _History(prompt, self.info.n_ctx)
        pace = self._draft_pace

        def emit(token: int) -> Optional[str]:
            """Take `token` into the answer; the stop reason when the answer ends with it."""
            if self.is_stop(token):
                return "eog"
            piece, pending = self.piece(token), state["pending"]
            if pending:
                overlap = min(len(pending), len(piece))
                piece, state["pending"] = piece[overlap:], pending[overlap:]
            state["raw"] += piece
            result.generated_tokens += 1
            history.append(token)
            text = state["raw"].decode("utf-8", "ignore")
            cut = stop_at(text)
            if cut is not None:
                result.text = text[:cut]
                return "stop"
            if result.generated_tokens >= limit:
                return "max_tokens"
            if deadline is not None and time.monotonic() >= deadline:
                return "time"
            return "cancelled" if cancelled() else None

        token = self._argmax(state["pending"])
        while True:
            reason = emit(token)
            if reason:
                break
            draft, match = [], 0
            if lookup and not state["pending"]:
                draft, match = history.draft(limit - result.generated_tokens)
                draft = draft[:pace.size(len(draft), match)]
            start = n_past
            started = time.perf_counter()
            self._decode([token] + draft, start, rows=1 + len(draft), seq=seq)
            result.steps += 1
            accepted = 0
            while accepted < len(draft) and self._argmax(row=accepted) == draft[accepted]:
                accepted += 1
            token = self._argmax(state["pending"], row=accepted)
            if lookup:
                pace.record(1 + len(draft), (time.perf_counter() - started) * 1000)
            n_past = start + 1 + accepted
            if accepted < len(draft):  # the cache keeps what greedy decoding would have produced
                llama_cpp.llama_memory_seq_rm(self._memory, seq, n_past, -1)
                if seq == MAIN:
                    del self._cached[n_past:]
            result.draft_tokens += len(draft)
            result.draft_accepted += accepted
            pace.update(len(draft), accepted, match)
            for drafted in draft[:accepted]:
                reason = emit(drafted)
                if reason:
                    break
            if reason:
                break
        result.stop_reason = reason
        if reason != "stop":
            result.text = state["raw"].decode("utf-8", "ignore")
        result.generate_ms = (time.perf_counter() - t1) * 1000
        return result

    def close(self) -> None:
        if getattr(self, "_batch", None) is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            llama_cpp.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            llama_cpp.llama_model_free(self._model)
            self._model = None


def _spans(start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """The batches (from, to) of at most `size` tokens that read positions `start`..`end`."""
    return ((pos, min(pos + size, end)) for pos in range(start, end, size))


def _chunks(start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """The batches (from, to) that read prompt positions `start`..`end`: at most `size` tokens each,
    the last token alone, so that its logits (the answer's first token) come from the same one-row
    computation whether the prompt was read cold or was in the KV cache (llama.cpp's matrix products
    round a batch's rows differently from a single row, which flipped near ties: a fresh cache and
    a warm one answered the same prompt differently)."""
    pos = start
    while pos < end:
        stop = end if pos == end - 1 else min(pos + size, end - 1)
        yield pos, stop
        pos = stop


DRAFT_TOKENS = 15  # drafted per step at most (llama-cpp-python's LlamaPromptLookupDecoding drafts 10)
DRAFT_SIZES = (1, 3, 7, 15)  # batches of 2, 4, 8 or 16 rows (llama.cpp's CPU matmul tiles rows by 4)
NGRAM = 2  # tokens that must match before the occurrence is looked at ...
MATCH_MAX = 16  # ... and how far back the match is followed, to rank occurrences and their drafts
CANDIDATES = 64  # latest occurrences of the n-gram compared


class _DraftPace:
    """Whether and how much to draft, from what drafting costs and gains on this machine.

    Every drafted token costs a row of the verification batch (on a CPU, a full output-layer row:
    with Gemma's 262K vocabulary, a batch of 2 to 8 rows can cost more than as many single-token
    steps), so the pace times the engine's decodes by row count and learns how often drafts are
    accepted: the first drafted token per match length (longer matches are accepted more often),
    and each next one once the previous was. It drafts the size whose expected tokens per unit of
    time beat a plain step, and nothing when none does. Unmeasured sizes are assumed cheap, so
    each is tried once unless the timed ones rule it out; the engine keeps one pace across generations."""

    MARGIN = 1.0  # expected speed-up a draft must promise
    CLASSES = (2, 3, 6)  # match lengths from which the first-token acceptance is counted apart
    RETRY = 500  # steps after which a size not drafted since is timed again (machine load changes)

    def __init__(self) -> None:
        self._times: dict[int, deque[float]] = {}
        self._typical: dict[int, float] = {}  # the median of each size's times
        self._used: dict[int, int] = {}  # the step each batch size was last decoded at
        self._steps = 0
        self._first = [[1.0, 2.0] for _ in self.CLASSES]  # [accepted, drafted] with a prior of 1/2
        self._next = [1.4, 2.0]  # a prior of 0.7

    @classmethod
    def timed(cls, costs: dict[int, float]) -> "_DraftPace":
        """A pace that knows these decode times (milliseconds by row count)."""
        pace = cls()
        for rows, ms in sorted(costs.items()):  # a plain step first: batches are kept relative to it
            pace.record(rows, ms)
        return pace

    def record(self, rows: int, ms: float) -> None:
        """A decode of `rows` rows took `ms` milliseconds. A batch's time is kept relative to a
        plain step's at the time: both change alike with the machine's load, and a batch timed at
        load (a short window) still says what it costs once steps read a long window."""
        single = self._typical.get(1)
        if rows > 1 and single is None:
            return  # (a plain step is timed first)
        self._steps += 1
        times = self._times.setdefault(rows, deque(maxlen=7))
        times.append(ms if rows == 1 else ms / single)
        self._typical[rows] = sorted(times)[len(times) // 2]
        self._used[rows] = self._steps
        if self._steps % 64 == 0:
            for size, used in list(self._used.items()):
                if size > 1 and self._steps - used > self.RETRY:
                    del self._times[size], self._typical[size], self._used[size]

    def cost(self, rows: int) -> Optional[float]:
        """The typical time of a decode of `rows` rows now (the median of the latest; a batch's
        relative to a plain step's), if measured."""
        typical = self._typical.get(rows)
        if typical is None or rows == 1:
            return typical
        return typical * self._typical[1]

    def estimate(self, rows: int, single: float) -> float:
        """The time of a decode of `rows` rows: measured, else the least the measured sizes allow
        (a batch costs no less than a smaller one, and a row no less than in a larger batch), and
        10% of a step per row when nothing bounds it (so that it gets tried)."""
        measured = self.cost(rows)
        if measured is not None:
            return measured
        bound = single * (1.0 + 0.1 * (rows - 1))
        for other in self._typical:
            cost = self.cost(other) or single
            if 1 < other < rows:
                bound = max(bound, cost)
            elif other > rows:
                bound = max(bound, single + (cost - single) * (rows - 1) / (other - 1))
        return bound

    def _class(self, match: int) -> int:
        return max(i for i, low in enumerate(self.CLASSES) if match >= low)

    def expected(self, size: int, match: int) -> float:
        """Tokens a step with `size` drafted tokens is expected to produce (the greedy one included)."""
        hits, tries = self._first[self._class(match)]
        p, q = hits / tries, self._next[0] / self._next[1]
        return 1.0 + p * sum(q ** j for j in range(size))

    def size(self, available: int, match: int) -> int:
        """How many of the `available` draft tokens to verify (0: a plain step), after a match of
        `match` tokens."""
        single = self.cost(1)
        if single is None:
            return 0  # a plain step first, to time it
        best, best_rate = 0, self.MARGIN
        for size in DRAFT_SIZES:
            if size > available:
                break
            rate = self.expected(size, match) * single / self.estimate(size + 1, single)
            if rate > best_rate:
                best, best_rate = size, rate
        return best

    def update(self, drafted: int, accepted: int, match: int) -> None:
        if not drafted:
            return
        first, following = self._first[self._class(match)], self._next
        for counts in (first, following):  # recent drafts weigh more
            counts[0] *= 0.97
            counts[1] *= 0.97
        first[0] += accepted > 0
        first[1] += 1
        following[0] += max(0, accepted - 1)
        following[1] += max(0, min(accepted + 1, drafted) - 1)


class _History:
    """The prompt and the output so far, where draft tokens are looked up."""

    def __init__(self, prompt: list[int], n_ctx: int) -> None:
        self._tokens = np.zeros(n_ctx + DRAFT_TOKENS + 1, dtype=np.int32)
        self._tokens[:len(prompt)] = prompt
        self._size = len(prompt)

    def append(self, token: int) -> None:
        self._tokens[self._size] = token
        self._size += 1

    def draft(self, room: int) -> tuple[list[int], int]:
        """The tokens that followed an earlier occurrence of the last NGRAM tokens, and how many
        tokens the match spans (up to MATCH_MAX): of the latest CANDIDATES occurrences, the one
        whose match reaches furthest back, the latest of those. At most `room` - 1 tokens."""
        tokens, size = self._tokens, self._size
        room = min(room - 1, DRAFT_TOKENS)
        if room <= 0 or size <= NGRAM:
            return [], 0
        tail = tokens[size - NGRAM:size]
        starts = np.flatnonzero(tokens[:size - NGRAM] == tail[0])
        for i in range(1, NGRAM):
            starts = starts[tokens[starts + i] == tail[i]]
        starts = starts[::-1][:CANDIDATES]  # the latest first
        if not len(starts):
            return [], 0
        match = np.full(len(starts), NGRAM)
        going = np.ones(len(starts), dtype=bool)
        for back in range(1, MATCH_MAX - NGRAM + 1):  # how far back each occurrence keeps matching
            before = starts - back
            going &= before >= 0
            going[going] = tokens[before[going]] == tokens[size - NGRAM - back]
            if not going.any():
                break
            match += going
        best = int(np.argmax(match))  # the first of the longest: the latest
        best, best_match = int(starts[best]) + NGRAM, int(match[best])
        return tokens[best:min(best + room, size)].tolist(), best_match
