from __future__ import annotations

import asyncio
import sys

from bench import attendance


def main() -> None:
    which = sys.argv[1:] or ["attendance"]
    for name in which:
        if name == "attendance":
            asyncio.run(attendance.main())
        else:
            raise SystemExit(f"unknown benchmark {name!r} (known: attendance)")


if __name__ == "__main__":
    main()
