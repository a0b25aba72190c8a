"""Rust crates from ``cargo vendor``'s folder: regex's dependency tasks with its crates vendored, recall before/after.

    .venv/bin/python -m benchmarks.cargo_vendor    # ~1 min; needs benchmarks.dependency_context's regex case

The regex case of `benchmarks.dependency_context` (regex 1.7.1 and Debian's regex-syntax, aho-corasick and memchr
crates) copied to ``<user cache>/deepfim/benchmarks/deps/regex-vendored`` with the crates laid out as ``cargo
vendor`` lays them out (``vendor/<name>/``, one version each) and the ``.cargo/config.toml`` it prints
(``[source.crates-io] replace-with = "vendored-sources"``, ``directory = "vendor"``), CARGO_HOME an empty folder:
the same tasks (`cargo_dependency_tasks`), their defining line in ``vendor/<name>/...``. Recall as in
`benchmarks.dependency_context`, before (`Project(dependencies=False)`) and after, in one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from benchmarks import dependency_context as deps
from benchmarks.repo_context import BUDGETS, PromptRig, benchmark_dir, index_workspace, measure_recall, recall_summary

VENDOR_CONFIG = ('[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
                 '[source.vendored-sources]\ndirectory = "vendor"\n')


def vendored_regex(log=lambda message: None) -> tuple[Path, dict[str, str], list[Path]]:
    """The vendored copy of the regex case (made anew), the registry key prefix -> vendor key prefix of each crate,
    and the crates' registry folders."""
    spec, pins = deps.CASES["regex"]
    source = deps.prepared(spec, pins, log)
    root = benchmark_dir() / "deps" / "regex-vendored"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(source, root)
    registry = deps.cargo_home() / "registry" / "src" / deps.CARGO_INDEX
    crates = [registry / deps.fetch(pin).root.name for pin in pins]
    moved = {}
    for crate in crates:
        name = deps._manifest(crate)[0]
        shutil.copytree(crate, root / "vendor" / name)
        moved[f"{deps.CARGO_KEY}{deps.CARGO_INDEX}/{crate.name}/"] = f"vendor/{name}/"
    (root / ".cargo").mkdir()
    (root / ".cargo" / "config.toml").write_text(VENDOR_CONFIG, encoding="utf-8")
    return root, moved, crates


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cargo_vendor", description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    args = parser.parse_args(argv)
    from models.synthetic import TINY, synthetic_deepseek
    from server.settings import Settings

    root, moved, crates = vendored_regex()
    empty = benchmark_dir() / "deps" / "cargo-home-empty"
    empty.mkdir(parents=True, exist_ok=True)
    os.environ["CARGO_HOME"] = str(empty)  # nothing in Cargo's registry: the vendor folder only
    project, _ = index_workspace(root)
    tasks = []
    for task in deps.cargo_dependency_tasks("regex", project, crates):
        path = task.definition.path
        prefix = next((p for p in moved if path.startswith(p)), "")
        definition = replace(task.definition, path=moved.get(prefix, "") + path[len(prefix):])
        tasks.append(replace(task, definition=definition))
    rigs = {b: PromptRig(synthetic_deepseek(TINY), b, threads=1) for b in args.budgets}
    try:
        for label, on in (("before", False), ("after", True)):
            project.dependencies = on
            summary = recall_summary(measure_recall(tasks, {"regex": project}, rigs, Settings().context_size),
                                     args.budgets)["regex"]
            print(f"regex, vendored, {label}: n {summary['n']}  " +
                  "  ".join(f"{b // 1024}K {summary['recall'][str(b)]:.3f}" for b in args.budgets))
    finally:
        for rig in rigs.values():
            rig.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
