"""The `deepfim` command: serve, complete, models."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Optional, Sequence


def _serve(args: argparse.Namespace) -> int:
    from server.lsp import create_server
    from server.settings import Settings
    from server.transport import serve

    server = create_server(Settings(model=args.model))
    try:
        if not args.tcp:
            return serve(server, partial(os.read, sys.stdin.fileno()), sys.stdout.buffer)
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"deepfim: --tcp expects HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        with socket.create_server((host or "127.0.0.1", int(port))) as listener:
            print(f"deepfim: waiting for one client on {host or '127.0.0.1'}:{port}", file=sys.stderr)
            connection, _ = listener.accept()
        with connection, connection.makefile("wb") as writer:
            return serve(server, connection.recv, writer)
    finally:
        server.shutdown_worker()


def workspace_root(file: Path) -> Path:
    """The enclosing git root of `file`, else its folder."""
    try:
        out = subprocess.run(["git", "-C", str(file.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return file.parent


MAX_SOURCE_BYTES = 8 << 20


def _read_source(path: Path) -> tuple[Path, str]:
    """The resolved path and text of a source file to complete in; OSError when it is not one."""
    file = path.resolve(strict=True)
    if not stat.S_ISREG(file.stat().st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a folder, device or pipe)")
    with open(os.open(file, os.O_RDONLY | os.O_NONBLOCK), "rb") as source:
        data = source.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_SOURCE_BYTES >> 20} MiB")
    return file, data.decode("utf-8", "replace")


def _complete(args: argparse.Namespace) -> int:
    from fim.context import select_context
    from fim.similarity import RecentEdits
    from models.catalog import ModelNotFound, resolve
    from server.completion import Completer, CompletionRequest
    from server.engine import Engine, ModelLoadError
    from server.settings import Settings
    from server.workspace import WorkspaceIndex

    try:
        file, text = _read_source(Path(args.file))
    except (OSError, RuntimeError) as error:  # RuntimeError: a symbolic link loop (Python < 3.13)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        print(f"deepfim: cannot read {args.file}: {reason}", file=sys.stderr)
        return 1
    root = Path(args.workspace).resolve() if args.workspace else workspace_root(file)
    try:
        relative = file.relative_to(root).as_posix()
    except ValueError:
        relative = file.name
    # A one-off completion has no typist waiting on the next keystroke: no time budget by default.
    settings = Settings(model=args.model, time_budget_ms=args.time_budget_ms)
    if args.max_tokens:
        settings = settings.merged({"max_tokens": args.max_tokens})
    if args.context_size:
        settings = settings.merged({"context_size": args.context_size})
    try:
        engine = Engine(resolve(settings.model), n_ctx=settings.context_size, n_threads=settings.threads)
    except (ModelLoadError, ModelNotFound) as error:
        print(f"deepfim: {error}", file=sys.stderr)
        return 1
    for warning in engine.info.warnings:
        print(f"deepfim: warning: {warning}", file=sys.stderr)
    completer = Completer(engine, settings)
    index = WorkspaceIndex([root])
    if not index.roots:
        print(f"deepfim: warning: {root} is not a project folder that can be read; completing without "
              "project context (pass --workspace DIR)", file=sys.stderr)
    deadline = time.monotonic() + 10
    while not index.scan(limit_seconds=0.5) and time.monotonic() < deadline:
        pass
    relative = index.update(file, text) or relative
    recent = RecentEdits()

    def context(window: tuple[int, int], budget_chars: int) -> list:
        return select_context(relative, text, args.line, index.snapshot(), [relative], recent, budget_chars,
                              window, recent_paths=index.recent_paths())

    request = CompletionRequest(text=text, line=args.line, character=args.character, path=relative,
                                context=context)
    result = completer.complete(request, lambda: False)
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result.completion)
        if result.completion and not result.completion.endswith("\n"):
            sys.stdout.write("\n")
    engine.close()
    return 0


def _models(args: argparse.Namespace) -> int:
    from models.catalog import default_name, entries, find
    from models.download import DownloadError, pull

    if args.models_command == "list":
        default = default_name()
        for entry in entries():
            mark = "*" if entry.name == default and entry.default_quant else " "
            here = "downloaded" if entry.local_path.is_file() else ""
            print(f"{mark} {entry.key:34} {entry.params:>5} {entry.approx_size_mb / 1000:6.1f} GB  "
                  f"{entry.repo}/{entry.file}  {here}".rstrip())
        print("\n* default. Pull one with `deepfim models pull NAME[:QUANT]`; "
              "any local .gguf works with --model PATH.")
        return 0
    entry = find(args.name)
    if entry is None:
        names = ", ".join(sorted({e.key for e in entries()}))
        print(f"deepfim: unknown model {args.name!r}; known: {names}", file=sys.stderr)
        return 2
    try:
        path = pull(entry)
    except DownloadError as error:
        print(f"deepfim: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepfim", description="Local code completion over LSP.")
    parser.add_argument("--log-level", default="WARNING", help="logging level on stderr (default WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--model", help="path to a .gguf file or a catalog name (default: $DEEPFIM_MODEL)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.set_defaults(func=_serve)

    complete = sub.add_parser("complete", help="complete once at a position and print the result")
    complete.add_argument("file")
    complete.add_argument("--line", type=int, required=True, help="zero-based line")
    complete.add_argument("--character", type=int, required=True, help="zero-based UTF-16 column")
    complete.add_argument("--model")
    complete.add_argument("--workspace", help="workspace root (default: git root or the file's folder)")
    complete.add_argument("--json", action="store_true", help="print the completion, prompt and timings")
    complete.add_argument("--max-tokens", type=int)
    complete.add_argument("--context-size", type=int)
    complete.add_argument("--time-budget-ms", type=int, default=600_000,
                          help="stop at a line end after this long (default: no practical limit)")
    complete.set_defaults(func=_complete)

    models = sub.add_parser("models", help="list or download catalog models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="list catalog models")
    pull = models_sub.add_parser("pull", help="download a catalog model into the cache")
    pull.add_argument("name")
    models.set_defaults(func=_models)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        stream=sys.stderr, format="deepfim %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BrokenPipeError:  # whoever read our output went away (`deepfim complete ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


if __name__ == "__main__":
    sys.exit(main())
