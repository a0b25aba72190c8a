"""Latency through a llama-server: deepfim against llama.vim's own requests, same server, same run.

One `llama-server` (built from the vendored llama.cpp, tests/llama_server.py) is started on loopback
with llama.vim's recommended flags (`--cache-reuse 256 -b 1024 -ub 512`, README of llama.vim) and
three slots of `--ctx` tokens: llama.vim pins slot 0 (`id_slot` 0, as it does); deepfim takes a
fresh slot from `/slots` and names it in every request (`id_slot`), so the server defers a request
while that slot is busy instead of handing it another idle slot (before deepfim did so, the second
of two overlapping requests landed in the least recently used slot, with two slots llama.vim's,
whose 7K-token window then had to be read again). The server's slot choices (by id, by prompt
similarity, least recently used) are read from its log. Then one line of a real file is typed keystroke by keystroke, and after
each keystroke both clients ask for a completion:

* deepfim: `deepfim serve` with the `engine` setting (what `--engine URL` sets) over LSP, driven as
  benchmarks/latency.py drives it (a change, then `textDocument/inlineCompletion`);
* llama.vim: its FIM requests reproduced in Python from `autoload/llama.vim` (ggml-org/llama.vim
  a1c8e6e): `/infill` with `input_prefix` = the 256 lines above the cursor, `input_suffix` = the
  rest of the line and the 64 lines below, `prompt` = the typed part of the line, `input_extra` =
  its ring of 16 chunks (random 33-line windows of other files of the workspace picked as BufEnter
  does, plus the two chunks its first FIM picks from the current file, each promoted with its
  warm-up request), `n_indent`, `top_k` 40, `top_p` 0.90, samplers top_k/top_p/infill,
  `cache_prompt`, `t_max_predict_ms` 250, `id_slot` 0; its client cache (the request hashes with
  three trimmed prefixes, and the hint scan back over 128 typed characters) is kept too.
  `n_predict` is deepfim's `maxTokens`. Not reproduced: its speculative request after a hint is
  shown (it would only add work on llama.vim's side).

With synthetic weights llama.vim's infill sampler ends most completions after a token or two
(it promotes end-of-generation when the model is unsure), while deepfim's greedy decoding runs to
its post-processor's cut: `--match-generation` makes each llama.vim request generate as many tokens
as deepfim's did on that keystroke (`n_predict` = that count, `ignore_eos`, samplers top_k and
top_p only: the infill sampler ends generation whatever `ignore_eos` says; no `n_indent` or
`t_max_predict_ms` stop), so that the latencies differ by the prompt work alone.

The clients take turns (who goes first alternates) and each waits until the server is idle, so
each keystroke's server work is measured alone: latency as each client sees it, and the prompt
tokens the server evaluated (`llamacpp:prompt_tokens_total` from its /metrics) before and after.

    python -m benchmarks.remote_latency                        # 16K window (about 15 minutes on 2 cores)
    python -m benchmarks.remote_latency --ctx 4096 --keystrokes 8   # a quick run
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from benchmarks.latency import (Keystroke, Typist, blank_line, open_session, resolve_model, row, typing_parser,
                                typing_target)
from benchmarks.stats import percentile

# llama.vim's defaults (s:default_config).
N_PREFIX, N_SUFFIX = 256, 64
RING_N_CHUNKS, RING_CHUNK_SIZE, RING_SCOPE = 16, 64, 1024
MAX_CACHE_KEYS = 250
MAX_QUEUED = 16
# llama.vim's recommended server flags (its README / doc/llama.txt), less -ngl and -fa (no GPU here).
LLAMA_VIM_SERVER_FLAGS = ("--cache-reuse", "256")
# How the server chose a slot for a request (its log, at the default verbosity).
SLOT_CHOICE = re.compile(r"id +(\d+) \| task -?\d+ \| selected slot by (LCP similarity|LRU|id)(, t_last = -1\b)?")


def server_tokens(server: Any) -> int:
    """Prompt tokens the server has evaluated so far (its /metrics; cached tokens not counted)."""
    return int(server.metric("llamacpp:prompt_tokens_total"))


def slot_choices(log: str) -> list[tuple[int, str]]:
    """(slot, how) for every slot the server chose in this part of its log: by "id" (the request
    named it), "LCP similarity" (the idle slot whose cached prompt shares most of its prefix with
    the request's), "fresh" (the least recently used idle slot was one never used: a session taking
    its slot) or "LRU" (the least recently used one, whatever it held)."""
    return [(int(m.group(1)), "fresh" if m.group(2) == "LRU" and m.group(3) else m.group(2))
            for m in SLOT_CHOICE.finditer(log)]


def keep_log(server: Any, path: Optional[Path]) -> None:
    """Copy the server's log (deleted when it stops) to `path`, when given."""
    if path is not None:
        shutil.copyfile(server.log.name, path)


def log_since(server: Any, start: int) -> str:
    """The server's log from character `start` on."""
    return Path(server.log.name).read_text(errors="replace")[start:]


def _words(chunk: list[str]) -> list[str]:
    return [w for w in re.split(r"[^0-9A-Za-z_]+", "\n".join(chunk)) if w]


def chunk_sim(c0: list[str], c1: list[str]) -> float:
    """llama.vim's s:chunk_sim: 2 * common words / all words (Dice-like, over `\\W+` splits)."""
    words0, words1 = _words(c0), _words(c1)
    if not words0 and not words1:
        return 1.0
    seen = set(words0)
    return 2.0 * sum(w in seen for w in words1) / (len(words0) + len(words1))


@dataclass
class Chunk:
    data: list[str]
    filename: str

    @property
    def text(self) -> str:
        return "\n".join(self.data) + "\n"


@dataclass
class VimStroke:
    """One llama.vim keystroke: what the user saw and what the server did."""

    typed: str
    latency_ms: float
    sent: bool
    hint_from_cache: bool
    answer: dict = field(default_factory=dict)  # the server's answer, less the suggestion's text
    server_tokens: int = 0
    evicted: int = 0

    @property
    def prompt_tokens(self) -> int:
        return int(self.answer.get("tokens_evaluated") or 0)


@dataclass
class LlamaVim:
    """llama.vim's FIM client for one buffer (autoload/llama.vim), in Python."""

    url: str
    n_predict: int
    rng: random.Random
    api_key: Optional[str] = None
    ring: list[Chunk] = field(default_factory=list)
    queued: list[Chunk] = field(default_factory=list)
    cache: "OrderedDict[str, str]" = field(default_factory=OrderedDict)
    pos_y_pick: int = -9999

    # ------------------------------------------------------------------ HTTP
    def post(self, body: dict) -> dict:
        request = urllib.request.Request(self.url + "/infill", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=3600) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"llama-server answered /infill with {error.code}: {error.read()[:500]!r}") from None

    # ------------------------------------------------------------------ ring
    def pick_chunk(self, text: list[str], filename: str, do_evict: bool) -> None:
        """s:pick_chunk: a random window of ring_chunk_size/2 (+1: vim slices are inclusive) lines
        of `text`, queued unless it is there already or too similar (> 0.9) to a chunk kept."""
        if len(text) < 3:
            return
        if len(text) + 1 < RING_CHUNK_SIZE:
            chunk = list(text)
        else:
            l0 = self.rng.randint(0, max(0, len(text) - RING_CHUNK_SIZE // 2))
            l1 = min(l0 + RING_CHUNK_SIZE // 2, len(text))
            chunk = text[l0:l1 + 1]
        if any(c.data == chunk for c in self.ring + self.queued):
            return
        for chunks in (self.queued, self.ring):
            for i in range(len(chunks) - 1, -1, -1):
                if chunk_sim(chunks[i].data, chunk) > 0.9:
                    if not do_evict:
                        return
                    del chunks[i]
        if len(self.queued) == MAX_QUEUED:
            del self.queued[0]
        self.queued.append(Chunk(chunk, filename))

    def buffer_enter(self, lines: list[str], cursor: int, filename: str) -> None:
        """BufEnter: a chunk from the 65 lines around the cursor of the buffer entered."""
        half = RING_CHUNK_SIZE // 2
        self.pick_chunk(lines[max(0, cursor - half): cursor + half + 1], filename, do_evict=True)

    def ring_update(self) -> None:
        """s:ring_update: move one queued chunk into the ring (oldest out when full) and send the
        warm-up request that evaluates the new extra context."""
        if not self.queued:
            return
        if len(self.ring) == RING_N_CHUNKS:
            del self.ring[0]
        self.ring.append(self.queued.pop(0))
        self.post({"id_slot": 0, "input_prefix": "", "input_suffix": "", "input_extra": self.extra(),
                   "prompt": "", "n_predict": 0, "temperature": 0.0, "samplers": [], "stream": False,
                   "cache_prompt": True, "t_max_prompt_ms": 1, "t_max_predict_ms": 1, "response_fields": [""]})

    def extra(self) -> list[dict]:
        return [{"text": c.text, "filename": c.filename} for c in self.ring]

    # ------------------------------------------------------------------ FIM
    @staticmethod
    def ctx_local(lines: list[str], y: int, x: int) -> dict[str, Any]:
        """s:fim_ctx_local for 0-based line `y`, column `x` (no previous completion)."""
        line_cur = lines[y]
        line_cur_prefix, line_cur_suffix = line_cur[:x], line_cur[x:]
        lines_prefix = lines[max(0, y - N_PREFIX):y]
        lines_suffix = lines[y + 1:y + 1 + N_SUFFIX]
        if re.fullmatch(r"\s*", line_cur):
            indent, line_cur_prefix, line_cur_suffix = 0, "", ""
        else:
            indent = len(line_cur) - len(line_cur.lstrip(" \t"))
        return {"prefix": "\n".join(lines_prefix) + "\n", "middle": line_cur_prefix,
                "suffix": line_cur_suffix + "\n" + "\n".join(lines_suffix) + "\n", "indent": indent,
                "line_cur_suffix": line_cur_suffix}

    @staticmethod
    def hashes(ctx: dict[str, Any]) -> list[str]:
        """The request's hash and three with the first 1-3 prefix lines removed."""
        out = [_sha(ctx["prefix"] + ctx["middle"] + "Î" + ctx["suffix"])]
        trimmed = ctx["prefix"]
        for _ in range(3):
            trimmed = re.sub(r"\A[^\n]*\n", "", trimmed, count=1)
            if not trimmed:
                break
            out.append(_sha(trimmed + ctx["middle"] + "Î" + ctx["suffix"]))
        return out

    def cache_get(self, key: str) -> Optional[str]:
        if key not in self.cache:
            return None
        self.cache.move_to_end(key)
        return self.cache[key]

    def cache_insert(self, key: str, content: str) -> None:
        if len(self.cache) > MAX_CACHE_KEYS - 1 and key not in self.cache:
            self.cache.popitem(last=False)
        self.cache[key] = content
        self.cache.move_to_end(key)

    def try_hint(self, lines: list[str], y: int, x: int) -> Optional[str]:
        """s:fim_try_hint: a suggestion from the cache, exact or one whose start was typed since
        (scanning back 128 characters)."""
        ctx = self.ctx_local(lines, y, x)
        found = self.cache_get(_sha(ctx["prefix"] + ctx["middle"] + "Î" + ctx["suffix"]))
        if found is None:
            pm, best = ctx["prefix"] + ctx["middle"], 0
            for i in range(128):
                if i + 1 > len(pm):
                    break
                removed = pm[-(1 + i):]
                cached = self.cache_get(_sha(pm[:len(pm) - (1 + i)] + "Î" + ctx["suffix"]))
                if not cached or cached[:i + 1] != removed:
                    continue
                rest = cached[i + 1:]
                if rest and (found is None or len(rest) > best):
                    if found is not None:
                        best = len(rest)
                    found = rest
        return found if found and found.strip() else None

    def fim(self, lines: list[str], y: int, x: int, typed: str, generate: Optional[int] = None) -> VimStroke:
        """One keystroke: the hint from the cache if there is one (CursorMovedI -> s:on_move), and
        llama#fim's request unless the exact context is cached; the latency is until a suggestion
        is shown (or the answer came without one). `generate`: exactly that many tokens."""
        started = time.perf_counter()
        hint = self.try_hint(lines, y, x)
        shown_ms = (time.perf_counter() - started) * 1000 if hint is not None else None
        ctx = self.ctx_local(lines, y, x)
        keys = self.hashes(ctx)
        if any(self.cache_get(k) is not None for k in keys):
            return VimStroke(typed, shown_ms or 0.0, sent=False, hint_from_cache=True)
        # Evict ring chunks too similar (> 0.5) to a random 33-line window near the cursor.
        half = RING_CHUNK_SIZE // 2
        near = lines[max(0, y - half): y + half + 1]
        l0 = self.rng.randint(0, max(0, len(near) - half))
        window = near[l0:min(l0 + half, len(near)) + 1]
        before = len(self.ring)
        self.ring = [c for c in self.ring if chunk_sim(c.data, window) <= 0.5]
        evicted = before - len(self.ring)
        body = {
            "id_slot": 0, "input_prefix": ctx["prefix"], "input_suffix": ctx["suffix"], "input_extra": self.extra(),
            "prompt": ctx["middle"], "n_predict": self.n_predict, "stop": [], "n_indent": ctx["indent"],
            "top_k": 40, "top_p": 0.90, "samplers": ["top_k", "top_p", "infill"], "stream": False,
            "cache_prompt": True, "t_max_prompt_ms": 500, "t_max_predict_ms": 250,
            "response_fields": ["content", "timings/prompt_n", "timings/prompt_ms", "timings/predicted_n",
                                "timings/predicted_ms", "truncated", "tokens_cached", "tokens_evaluated"],
        }
        if generate is not None:
            body.update(n_predict=generate, ignore_eos=True, n_indent=0, t_max_predict_ms=0,
                        samplers=["top_k", "top_p"])
        answer = self.post(body)
        latency = (time.perf_counter() - started) * 1000
        for key in keys:
            self.cache_insert(key, answer.get("content", ""))
        if abs(y - self.pos_y_pick) > 32:  # the cursor moved far: gather chunks around it
            self.pick_around(lines, y)
        return VimStroke(typed, shown_ms if shown_ms is not None else latency, sent=True,
                         hint_from_cache=hint is not None, evicted=evicted,
                         answer={k: v for k, v in answer.items() if k != "content"})

    def pick_around(self, lines: list[str], y: int, filename: str = "") -> None:
        """After a FIM far from the last pick: a chunk of the far prefix and one below the suffix."""
        n, line = len(lines), y + 1  # vim's 1-based line
        a, b = max(1, line - RING_SCOPE), max(1, line - N_PREFIX)
        self.pick_chunk(lines[a - 1:b], filename, do_evict=False)
        a, b = min(n, line + N_SUFFIX), min(n, line + N_SUFFIX + RING_CHUNK_SIZE)
        self.pick_chunk(lines[a - 1:b], filename, do_evict=False)
        self.pos_y_pick = y


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def buffer_lines(text: str) -> list[str]:
    """A document's lines as vim holds them (split at newlines only, no empty last line)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def prime_ring(client: LlamaVim, file: Path, workspace: Path, lines: list[str], y: int) -> None:
    """The ring as the user's session left it: buffers of other files of the workspace entered
    (BufEnter picks) until the queue holds room for the current file's two FIM picks, then every
    queued chunk promoted with its warm-up request."""
    others = sorted(p for p in workspace.rglob("*.py") if p.resolve() != file and p.stat().st_size > 2000)
    visits = 0
    while others and len(client.queued) < RING_N_CHUNKS - 2 and visits < 200:
        visits += 1
        other = client.rng.choice(others)
        text = buffer_lines(other.read_text(encoding="utf-8", errors="replace"))
        client.buffer_enter(text, client.rng.randrange(max(1, len(text))), str(other.relative_to(workspace)))
    client.pick_around(lines, y, str(file.relative_to(workspace)) if file.is_relative_to(workspace) else file.name)
    while client.queued:
        client.ring_update()


# ---------------------------------------------------------------------- the run
def run(args: argparse.Namespace, model: Path, file: Path, workspace: Path, line: int) -> dict[str, Any]:
    from tests.llama_server import LlamaServer

    text, indent, body = blank_line(file, line)
    # -n: /infill budgets its extra context with the server's default n_predict (-1 unless set), not
    # the request's, and then overflows the slot by 4 tokens when the ring is larger than the room.
    # --cache-ram: the server's host-memory prompt cache, bounded (default 8 GiB) for a shared machine.
    extra = [*LLAMA_VIM_SERVER_FLAGS, "-b", str(args.batch), "-ub", str(args.ubatch), "-n", str(args.max_tokens),
             "--cache-ram", str(args.cache_ram)]
    print(f"llama-server: {args.slots} slots of {args.ctx} tokens, {args.server_threads} threads, {' '.join(extra)}",
          flush=True)
    server = LlamaServer(model, ctx=args.ctx, parallel=args.slots, threads=args.server_threads, extra=extra)
    session = None
    try:
        lines = buffer_lines(text)
        vim = LlamaVim(server.url, args.max_tokens, random.Random(args.seed))
        started = time.perf_counter()
        prime_ring(vim, file, workspace, lines, line)
        server.settle()  # background work a client started after answering included
        print(f"llama.vim ring: {len(vim.ring)} chunks, {sum(len(c.data) for c in vim.ring)} lines, "
              f"warm-up {time.perf_counter() - started:.1f} s", flush=True)
        options = {"engine": server.url, "contextSize": args.ctx, "maxTokens": args.max_tokens,
                   "timeBudgetMs": 600_000}
        session = open_session("", workspace, options)
        typist = Typist(session, file, line, text, indent)
        log_start = len(log_since(server, 0))
        ours: list[Keystroke] = []
        ours_server: list[int] = []
        theirs: list[VimStroke] = []
        for count in range(0, min(len(body), args.keystrokes) + 1):
            typed = body[:count]
            if count:
                lines[line] = indent + typed
            x = len(indent) + count
            # Cold start: llama.vim first. Then who goes first alternates, or deepfim goes first when
            # llama.vim is to generate as many tokens as it did.
            order = ("vim", "deepfim") if count == 0 or (count % 2 == 0 and not args.match_generation) \
                else ("deepfim", "vim")
            for who in order:
                before = server_tokens(server)
                if who == "deepfim":
                    latency = typist.keystroke(body[count - 1] if count else "")
                    ours.append(typist.record(typed, latency))
                else:
                    same = max(1, ours[-1].generated) if args.match_generation and count else None
                    theirs.append(vim.fim(lines, line, x, typed, same))
                server.settle()
                spent = server_tokens(server) - before
                if who == "deepfim":
                    ours_server.append(spent)
                    print(f"{row(count, ours[-1])}  server {spent:5d}  (deepfim)", flush=True)
                else:
                    theirs[-1].server_tokens = spent
                    v = theirs[-1]
                    print(f"  {count:3d} {typed[-24:]:>24} {v.latency_ms:9.1f} ms  server {spent:5d}  "
                          f"prompt {v.prompt_tokens}{'  hint from cache' if v.hint_from_cache else ''}"
                          f"{'' if v.sent else '  (no request)'}  (llama.vim)", flush=True)
        return summarize(args, ours, ours_server, theirs, vim, slot_choices(log_since(server, log_start)))
    finally:
        if session is not None:
            session.close()
        keep_log(server, args.server_log)
        server.close()


def summarize(args: argparse.Namespace, ours: list[Keystroke], ours_server: list[int], theirs: list[VimStroke],
              vim: LlamaVim, slots: list[tuple[int, str]]) -> dict[str, Any]:
    """Figures of the keystrokes after the first (cold) one."""
    def side(latencies: list[float], spent: list[int]) -> dict[str, Any]:
        return {"p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
                "server_tokens_per_keystroke": statistics.mean(spent) if spent else 0.0,
                "server_tokens_p50": percentile(spent, 50), "server_tokens_max": max(spent, default=0)}

    deepfim = side([k.latency_ms for k in ours[1:]], ours_server[1:])
    deepfim.update(cold_server_tokens=ours_server[0], prompt_tokens=ours[-1].prompt_tokens,
                   cache_hits=sum(k.cache_hit for k in ours[1:]),
                   reported_evaluated=sum(k.evaluated for k in ours[1:]),
                   mean_generated=_mean([k.generated for k in ours[1:] if not k.cache_hit]),
                   mean_prompt_ms=_mean([k.prompt_ms for k in ours[1:] if not k.cache_hit]),
                   slots_used=sorted({slot for slot, how in slots if how != "id"}))
    llama_vim = side([v.latency_ms for v in theirs[1:]], [v.server_tokens for v in theirs[1:]])
    llama_vim.update(cold_server_tokens=theirs[0].server_tokens,
                     prompt_tokens=max(v.prompt_tokens for v in theirs),
                     hints_from_cache=sum(v.hint_from_cache for v in theirs[1:]),
                     requests=sum(v.sent for v in theirs[1:]), ring_chunks=len(vim.ring),
                     ring_evictions_while_typing=sum(v.evicted for v in theirs[1:]),
                     mean_generated=_mean([v.answer.get("timings/predicted_n", 0) for v in theirs[1:] if v.sent]),
                     mean_prompt_ms=_mean([v.answer.get("timings/prompt_ms", 0.0) for v in theirs[1:] if v.sent]),
                     slot_taken_by_others=sum(1 for slot, how in slots if slot == 0 and how != "id"))
    # Latency drifts with the machine's load; a keystroke's two requests are seconds apart.
    paired = [k.latency_ms / v.latency_ms for k, v in zip(ours[1:], theirs[1:]) if v.latency_ms > 0]
    return {"paired_ratio_p50": statistics.median(paired) if paired else None,
            "settings": {"ctx": args.ctx, "max_tokens": args.max_tokens, "batch": args.batch, "slots": args.slots,
                         "match_generation": args.match_generation,
                         "ubatch": args.ubatch, "server_threads": args.server_threads, "cache_ram": args.cache_ram},
            "keystrokes": len(ours) - 1, "deepfim": deepfim, "llama_vim": llama_vim,
            "per_keystroke": {"deepfim": [dict({k: v for k, v in asdict(s).items() if k != "token_ids"},
                                               server_tokens=n) for s, n in zip(ours, ours_server)],
                              "llama_vim": [asdict(v) for v in theirs]}}


def _mean(values: list[float]) -> float:
    return statistics.mean(values) if values else 0.0


def report(summary: dict[str, Any]) -> None:
    ours, theirs = summary["deepfim"], summary["llama_vim"]
    print(f"\n== deepfim vs llama.vim through one llama-server ({summary['keystrokes']} keystrokes after the "
          f"first; window {summary['settings']['ctx']}) ==")
    print(f"{'':28}{'p50':>10}{'p95':>10}   server prompt tokens / keystroke (mean, p50, max)   prompt")
    for name, side in (("deepfim (/completion, ids)", ours), ("llama.vim (/infill)", theirs)):
        print(f"{name:28}{side['p50_ms']:8.0f}ms{side['p95_ms']:8.0f}ms   {side['server_tokens_per_keystroke']:10.1f}"
              f"{side['server_tokens_p50']:8d}{side['server_tokens_max']:8d}{'':22}{side['prompt_tokens']:6d}")
    print(f"cold first completion: deepfim {ours['cold_server_tokens']} server tokens, llama.vim "
          f"{theirs['cold_server_tokens']} (after its ring warm-up); deepfim cache hits {ours['cache_hits']}, "
          f"llama.vim hints from cache {theirs['hints_from_cache']}, ring chunks {theirs['ring_chunks']} "
          f"({theirs['ring_evictions_while_typing']} evicted while typing)")
    for name, side in (("deepfim", ours), ("llama.vim", theirs)):
        print(f"{name} per request to the server: {side['mean_generated']:.1f} tokens generated, "
              f"{side['mean_prompt_ms']:.0f} ms to the first token")
    print(f"slots the server chose not by id (none: every request named its slot): {ours['slots_used']}; requests of others in llama.vim's slot 0: "
          f"{theirs['slot_taken_by_others']}")
    checks = [("deepfim server prompt tokens per keystroke <= 32", ours["server_tokens_per_keystroke"], 32.0)]
    if theirs["p50_ms"] > 0:
        checks.append(("deepfim p50 <= 0.5 x llama.vim p50", ours["p50_ms"] / theirs["p50_ms"], 0.5))
    if summary["paired_ratio_p50"] is not None:
        checks.append(("keystroke by keystroke, median of deepfim / llama.vim <= 0.5", summary["paired_ratio_p50"],
                       0.5))
    for name, value, bound in checks:
        print(f"  {'PASS' if value <= bound else 'FAIL'}  {name}: {value:.3f}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = typing_parser(__doc__ or "", ctx=16384, keystrokes=16)
    parser.add_argument("--batch", type=int, default=1024, help="server -b (llama.vim's recommendation: 1024)")
    parser.add_argument("--ubatch", type=int, default=512, help="server -ub (llama.vim's recommendation: 512)")
    parser.add_argument("--server-threads", type=int, default=2, help="llama-server threads (2)")
    parser.add_argument("--slots", type=int, default=3,
                        help="server slots (3: llama.vim pins slot 0, deepfim's requests take the others)")
    parser.add_argument("--cache-ram", type=int, default=4096, help="server --cache-ram in MiB (4096)")
    parser.add_argument("--seed", type=int, default=0, help="seed of llama.vim's random chunk picks")
    parser.add_argument("--server-log", type=Path, help="keep llama-server's log in this file")
    parser.add_argument("--match-generation", action="store_true",
                        help="llama.vim's requests generate as many tokens as deepfim's on the same keystroke")
    args = parser.parse_args(argv)
    model = resolve_model(args.model)
    print(f"model {model.name}")
    file, workspace, line = typing_target(args)
    summary = run(args, model, file, workspace, line)
    report(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
