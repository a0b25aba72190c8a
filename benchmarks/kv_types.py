"""KV cache precision on this machine: reading a prompt and generating, `kvCacheType` f16 against q8_0 (and q4_0),
and flash attention on and off.

    .venv/bin/python -m benchmarks.kv_types                  # 6,000-token prompt, 1 thread, ~25 min on 2 cores
    .venv/bin/python -m benchmarks.kv_types --prompt-tokens 3000 --threads 2 --types f16,q8_0,q4_0
    .venv/bin/python -m benchmarks.kv_types --types f16,f16:off      # flash attention off (f16 only)

One engine per type (the in-process engine, `server/engines/local.py`, flash attention `auto` as the server runs
it, or as a type's `:auto|on|off` says) with the synthetic DeepSeek-Coder-1.3B shape (compute does not depend on
the weights) and a 16K window reads the same prompt (llama-cpp-python's own `llama.py`, repeated), then generates
16 tokens after it `--repeat` times, the types in turn so the machine's other load falls on each alike. Printed: the
read time and speed per type, and the median milliseconds per generated token with its ratio to the first type's.
q8_0 and q4_0 store the window in about half and a third of the memory; what they cost in speed is what this
measures.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="GGUF to use (default: the synthetic DeepSeek-Coder-1.3B shape)")
    parser.add_argument("--prompt-tokens", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=1,
                        help="llama.cpp threads, fixed (default 1: on shared cores 2 threads wait for each other)")
    parser.add_argument("--types", default="f16,q8_0",
                        help="comma-separated kvCacheType values, each with :off or :on for flash attention, the first "
                             "the base")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import llama_cpp

    from models.synthetic import DEEPSEEK_1_3B, synthetic_deepseek
    from server.engines.local import LocalEngine

    model = args.model or synthetic_deepseek(DEEPSEEK_1_3B)
    text = Path(llama_cpp.__file__).with_name("llama.py").read_text() * 4
    types = args.types.split(",")
    engines: dict[str, tuple[LocalEngine, list[int]]] = {}
    for kind in types:
        cache_type, _, attention = kind.partition(":")
        engine = LocalEngine(model, n_ctx=16384, n_threads=args.threads, kv_cache_type=cache_type,
                             flash_attention=attention or "auto")
        prompt = engine.tokenize(text)[:args.prompt_tokens]
        started = time.perf_counter()
        engine.prefill(prompt, lambda: False)
        seconds = time.perf_counter() - started
        print(f"{kind:8s} read {len(prompt)} tokens in {seconds:.1f} s ({len(prompt) / seconds:.1f} tokens/s)",
              flush=True)
        engines[kind] = (engine, prompt)
    per_token: dict[str, list[float]] = {kind: [] for kind in types}
    for _ in range(args.repeat):
        for kind in types:
            engine, prompt = engines[kind]
            generation = engine.generate(prompt, 16, lambda: False)
            per_token[kind].append(generation.generate_ms / max(1, generation.generated_tokens))
    base = statistics.median(per_token[types[0]])
    for kind in types:
        median = statistics.median(per_token[kind])
        print(f"{kind:8s} generation {median:.1f} ms a token (median of {args.repeat}), "
              f"{median / base:.2f} x {types[0]}")
    for engine, _ in engines.values():
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
