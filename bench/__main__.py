"""``python -m bench [NAME ...]``: the benchmarks at full size (all when none is named);
``python -m bench --smoke [NAME ...]``: each at a small size in its own process, failing if one
crashes (``bench/smoke.py``, run by ``.ci/run``); ``--list``: the benchmarks found."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os

# Benchmarks run the demo secrets on this machine: an explicit development setting, as
# `make bench` gives, also when started as `python -m bench`.
os.environ.setdefault("KCBX_ENVIRONMENT", "development")

from bench import smoke


def main() -> None:
    found = smoke.benchmarks()
    names = [b.name for b in found]
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks (each prints its figures, its ratio to a bare baseline and its "
        f"goal). Found in bench/: {', '.join(names)}.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all if none)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="run each at a small size (its SMOKE sizes) in its own process; exit 1 if one "
        "crashes, times out or prints no ratio and goal",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(names))
        return
    if args.smoke:
        outcomes = smoke.run(args.names, found=found)
        if any(o.problem for o in outcomes):
            raise SystemExit(1)
        return
    for name in args.names or names:
        if name not in names:
            parser.error(f"unknown benchmark {name!r} (known: {', '.join(names)})")
    chosen = args.names or names
    if len(chosen) == 1:
        asyncio.run(importlib.import_module(f"bench.{chosen[0]}").main())
        return
    # More than one: each in its own process, as the smoke runs them. A benchmark reads its
    # sizes, database and ports from the environment when its module is imported, and some
    # set defaults there (bench/partitions.py runs bench/attendance.py's code at its own
    # size): in one process the second import is the first's module, and the partitioned
    # run measured the attendance run's county, without its year of history.
    if any(o.problem for o in smoke.run_full(chosen)):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
