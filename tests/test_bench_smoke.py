"""The bench smoke (issue 24 item 1): every benchmark of bench/ is found and has a small size,
and the smoke fails when one crashes, hangs or stops printing its ratio and goal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench import smoke

ROOT = Path(__file__).resolve().parents[1]


def test_every_benchmark_module_is_in_the_smoke_with_its_own_small_databases() -> None:
    found = {b.name: b for b in smoke.benchmarks()}
    # Any module with an async main is a benchmark: the smoke lists the ones written so far.
    assert {
        "attendance",
        "deadlines",
        "delivery",
        "reports",
        "measures",
        "signin",
        "drill",
        "scale",
    } <= set(found)
    assert not {"db", "roster", "receiver", "bare_app", "smoke"} & set(found)
    for b in found.values():
        assert b.smoke, f"bench/{b.name}.py has no SMOKE sizes"
        for key, value in b.smoke.items():
            if key.endswith("_URL"):
                # Never the full bench's database: a smoke must not drop a running bench's.
                assert value.rsplit("/", 1)[1].startswith("kcbx_smoke_"), (b.name, value)


def test_a_new_module_with_main_joins_the_smoke_and_its_sizes_are_read(tmp_path: Path) -> None:
    (tmp_path / "history.py").write_text(
        'SMOKE = {"BENCH_YEARS": "1"}\n\nasync def main() -> None:\n    pass\n'
    )
    (tmp_path / "helpers.py").write_text("def main() -> None:\n    pass\n")  # not async
    found = smoke.benchmarks(tmp_path)
    assert [(b.name, b.smoke) for b in found] == [("history", {"BENCH_YEARS": "1"})]
    env = smoke.smoke_env(found[0], {"BENCH_SCHOOLS": "7"})
    # The module's sizes over the common ones; the caller's environment wins.
    assert env["BENCH_YEARS"] == "1" and env["BENCH_SCHOOLS"] == "7"
    assert env["BENCH_REPEAT"] == smoke.COMMON["BENCH_REPEAT"]


def test_the_smoke_fails_on_a_crash_a_hang_and_a_missing_goal() -> None:
    found = [smoke.Benchmark(n, {}) for n in ("ok", "crash", "hang", "quiet")]
    printed = {
        "ok": (0, "ratio kcbx / bare 0.5x (goal >= 0.6)\n"),
        "crash": (1, "Traceback (most recent call last):\nTypeError: register_xlsx()\n"),
        "hang": (None, "ratio 1x goal 2x"),
        "quiet": (0, "ratio 1.0x\n"),
    }
    outcomes = smoke.run(found=found, runner=lambda name, env, timeout: printed[name])
    problems = {o.name: o.problem for o in outcomes}
    assert problems["ok"] is None
    assert problems["crash"] == "exit status 1"
    assert problems["hang"] is not None and "timed out" in problems["hang"]
    assert problems["quiet"] == "printed no goal line"


def test_an_unknown_benchmark_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown benchmark 'nope'"):
        smoke.run(["nope"], found=[smoke.Benchmark("ok", {})], runner=lambda *a: (0, ""))


def test_ci_runs_the_bench_smoke() -> None:
    assert ".venv/bin/python -m bench --smoke" in (ROOT / ".ci" / "run").read_text()


def test_the_full_bench_runs_each_benchmark_in_its_own_process_and_fails_on_a_crash() -> None:
    ran: list[str] = []

    def runner(name: str) -> int:
        ran.append(name)
        return 1 if name == "crash" else 0

    outcomes = smoke.run_full(["attendance", "crash", "partitions"], runner=runner)
    # One that crashes does not stop the rest, and is named.
    assert ran == ["attendance", "crash", "partitions"]
    assert {o.name: o.problem for o in outcomes} == {
        "attendance": None,
        "crash": "exit status 1",
        "partitions": None,
    }


def test_make_bench_hands_two_or_more_benchmarks_to_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `make bench` ran every benchmark in one process: bench/partitions.py then re-used
    # bench/attendance.py's already-imported sizes and measured 50,000 pupils on empty tables
    # instead of 20,000 with a year of history. Two or more names go to run_full.
    import bench.__main__ as entry

    handed: list[list[str]] = []
    monkeypatch.setattr(smoke, "run_full", lambda names: handed.append(list(names)) or [])
    monkeypatch.setattr(sys, "argv", ["bench", "attendance", "partitions"])
    entry.main()
    assert handed == [["attendance", "partitions"]]
