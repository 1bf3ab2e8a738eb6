from __future__ import annotations

import asyncio
import sys

from bench import attendance, deadlines, delivery, drill, reports


def main() -> None:
    which = sys.argv[1:] or ["attendance", "deadlines", "delivery", "reports", "drill"]
    for name in which:
        if name == "attendance":
            asyncio.run(attendance.main())
        elif name == "deadlines":
            asyncio.run(deadlines.main())
        elif name == "delivery":
            asyncio.run(delivery.main())
        elif name == "reports":
            asyncio.run(reports.main())
        elif name == "drill":
            asyncio.run(drill.main())
        else:
            raise SystemExit(
                f"unknown benchmark {name!r} "
                "(known: attendance, deadlines, delivery, reports, drill)"
            )


if __name__ == "__main__":
    main()
