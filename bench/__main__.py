from __future__ import annotations

import asyncio
import os
import sys

# Benchmarks run the demo secrets on this machine: an explicit development setting, as
# `make bench` gives, also when started as `python -m bench`.
os.environ.setdefault("KCBX_ENVIRONMENT", "development")

from bench import attendance, deadlines, delivery, drill, intake_profile, measures, reports, signin


def main() -> None:
    which = sys.argv[1:] or [
        "attendance",
        "deadlines",
        "delivery",
        "reports",
        "measures",
        "signin",
        "drill",
    ]
    for name in which:
        if name == "attendance":
            asyncio.run(attendance.main())
        elif name == "deadlines":
            asyncio.run(deadlines.main())
        elif name == "delivery":
            asyncio.run(delivery.main())
        elif name == "reports":
            asyncio.run(reports.main())
        elif name == "measures":
            asyncio.run(measures.main())
        elif name == "signin":
            asyncio.run(signin.main())
        elif name == "drill":
            asyncio.run(drill.main())
        elif name == "intake_profile":
            asyncio.run(intake_profile.main())
        else:
            raise SystemExit(
                f"unknown benchmark {name!r} "
                "(known: attendance, deadlines, delivery, reports, measures, signin, drill, "
                "intake_profile)"
            )


if __name__ == "__main__":
    main()
