from __future__ import annotations

import asyncio
import sys

from bench import attendance, deadlines, delivery


def main() -> None:
    which = sys.argv[1:] or ["attendance", "deadlines", "delivery"]
    for name in which:
        if name == "attendance":
            asyncio.run(attendance.main())
        elif name == "deadlines":
            asyncio.run(deadlines.main())
        elif name == "delivery":
            asyncio.run(delivery.main())
        else:
            raise SystemExit(f"unknown benchmark {name!r} (known: attendance, deadlines, delivery)")


if __name__ == "__main__":
    main()
