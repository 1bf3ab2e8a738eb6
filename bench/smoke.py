"""The bench smoke (issue 24 item 1): every benchmark run once at a small size, so none rots.

A benchmark is any module of ``bench/`` with a top-level ``async def main()`` — found by reading
the sources (``ast``), not by importing them, so a new benchmark joins the smoke without being
listed anywhere, and a module that reads its sizes from the environment at import time gets
them. Its small size is its own ``SMOKE`` dictionary (environment variables, a literal), laid
over the common small roster below; the caller's environment wins over both (a
``KCBX_BENCH_*`` URL or a port moved on a shared machine).

Each benchmark runs in its own process (``python -m bench NAME``), bounded by a timeout; the
smoke fails if one exits non-zero, times out, or prints no line naming its ``ratio`` and its
``goal`` (the figures the issues ask for must stay printed). Decisions: the databases of the
smoke are ``kcbx_smoke_*`` (set in each ``SMOKE``), never the full bench's, so a smoke and a
``make bench`` on one machine do not drop each other's; the smoke prints the figures but judges
none of them (a small size says nothing of the goals).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The full bench's order (the rest follow by name).
ORDER = ("attendance", "deadlines", "delivery", "reports", "measures", "signin", "drill")
# A county of 2 schools × 2 classes × 10 pupils, each timing once.
COMMON = {
    "BENCH_SCHOOLS": "2",
    "BENCH_CLASSES": "2",
    "BENCH_STUDENTS": "10",
    "BENCH_REPEAT": "1",
}
TIMEOUT = float(os.environ.get("BENCH_SMOKE_TIMEOUT", "300"))
_PRINTS = (re.compile(r"\bratio\b", re.I), re.compile(r"\bgoal\b", re.I))


@dataclass(frozen=True)
class Benchmark:
    name: str
    smoke: dict[str, str]  # the module's SMOKE, as written


def _has_main(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.AsyncFunctionDef) and n.name == "main" for n in tree.body)


def _smoke_sizes(tree: ast.Module, name: str) -> dict[str, str]:
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == "SMOKE" for t in targets):
            continue
        sizes = ast.literal_eval(value)
        if not isinstance(sizes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in sizes.items()
        ):
            raise ValueError(f"bench/{name}.py: SMOKE must be a dict of str to str")
        return sizes
    return {}


def benchmarks(folder: Path = HERE) -> list[Benchmark]:
    """Every benchmark module of ``folder``, in the bench's order."""
    found = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_") or path.stem == "smoke":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if _has_main(tree):
            found.append(Benchmark(path.stem, _smoke_sizes(tree, path.stem)))
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(found, key=lambda b: (rank.get(b.name, len(rank)), b.name))


def smoke_env(bench: Benchmark, base: Mapping[str, str]) -> dict[str, str]:
    return {**COMMON, **bench.smoke, **base}


@dataclass(frozen=True)
class Outcome:
    name: str
    seconds: float
    problem: str | None  # None: ran, and printed its ratio and goal


def judge(name: str, returncode: int | None, output: str, seconds: float) -> Outcome:
    if returncode is None:
        return Outcome(name, seconds, f"timed out after {seconds:.0f} s")
    if returncode:
        return Outcome(name, seconds, f"exit status {returncode}")
    missing = [p.pattern.strip("\\b") for p in _PRINTS if not p.search(output)]
    if missing:
        return Outcome(name, seconds, "printed no " + " and no ".join(missing) + " line")
    return Outcome(name, seconds, None)


def _run_one(name: str, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", name],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        print(out, end="", flush=True)
        return None, out
    print(out, end="", flush=True)
    return proc.returncode, out


def _summarise(title: str, outcomes: Sequence[Outcome]) -> None:
    print(f"{title}:")
    for o in outcomes:
        print(f"  {o.name:<14} {o.seconds:7.1f} s  {o.problem or 'ok'}")


def _run_full(name: str) -> int:
    """One benchmark at its full size in its own process, its output passed straight on."""
    return subprocess.run([sys.executable, "-m", "bench", name], cwd=ROOT, check=False).returncode


def run_full(names: Sequence[str], *, runner: Callable[[str], int] = _run_full) -> list[Outcome]:
    """``make bench``: the named benchmarks one after the other, each in its own process
    (no timeout: the full sizes take minutes); prints which ran to the end."""
    outcomes = []
    for name in names:
        print(f"== bench: {name} ==", flush=True)
        t0 = time.perf_counter()
        code = runner(name)
        seconds = time.perf_counter() - t0
        outcomes.append(Outcome(name, seconds, f"exit status {code}" if code else None))
    _summarise("bench", outcomes)
    return outcomes


def run(
    names: Sequence[str] = (),
    *,
    timeout: float = TIMEOUT,
    runner: Callable[[str, dict[str, str], float], tuple[int | None, str]] = _run_one,
    found: Sequence[Benchmark] | None = None,
) -> list[Outcome]:
    """Run the named benchmarks (all when none) at their small size; prints a summary."""
    every = list(found if found is not None else benchmarks())
    known = {b.name: b for b in every}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown[0]!r} (known: {', '.join(known)})")
    chosen = [known[n] for n in names] if names else every
    outcomes = []
    for b in chosen:
        print(f"== bench smoke: {b.name} ==", flush=True)
        t0 = time.perf_counter()
        code, out = runner(b.name, smoke_env(b, os.environ), timeout)
        outcomes.append(judge(b.name, code, out, time.perf_counter() - t0))
    _summarise("bench smoke", outcomes)
    return outcomes
