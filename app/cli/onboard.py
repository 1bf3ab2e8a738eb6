"""``kcbx-onboard --school-id N [--roster 学籍.xlsx] [--staff 教职工.xlsx] [--dry-run]``: the
one-step onboarding of POST /imports/roster and /imports/staff, as the operator, with a
progress bar. The roster goes first (the staff file names its classes).

Exit status: 0 when every row was accepted, 1 when some were not (in the default
all-or-nothing mode nothing of that file was written), 2 when a file or the school is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from app.cli import cli_logging
from app.cli.import_roster import OPERATOR
from app.context import AppContext
from app.core.tables import FileError, ImportMode, ReadLimits
from app.errors import AppError
from app.roster import onboarding, staff_import
from app.roster.sheets import Sheet
from app.settings import get_settings


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kcbx-onboard", description="一步导入一所学校")
    parser.add_argument("--school-id", type=int, required=True, help="学校 id")
    parser.add_argument("--roster", type=Path, help="学籍系统导出的学生名单 (CSV/XLSX)")
    parser.add_argument("--staff", type=Path, help="教职工名单:姓名、手机号、职务、班级")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="演练:只报告,不写入 (staff are checked against the classes already there)",
    )
    parser.add_argument(
        "--mode", choices=[m.value for m in ImportMode], default=ImportMode.all_or_nothing.value
    )
    parser.add_argument("--database-url", help="默认取 KCBX_DATABASE_URL")
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace, sheets: list[tuple[str, Sheet]]) -> list[Any]:
    settings = get_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    ctx = AppContext.from_settings(settings)
    reports = []
    try:
        for kind, sheet in sheets:
            service = onboarding.import_roster if kind == "roster" else staff_import.import_staff
            label = "学生" if kind == "roster" else "教职工"
            with tqdm(total=len(sheet.roster.rows), unit="行", desc=label, disable=None) as bar:
                async with ctx.uow() as uow:
                    report = await service(
                        uow,
                        ctx,
                        OPERATOR,
                        args.school_id,
                        sheet,
                        ImportMode(args.mode),
                        args.dry_run,
                        bar.update,
                    )
            reports.append(report)
    finally:
        await ctx.close()
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    cli_logging()
    sheets: list[tuple[str, Sheet]] = []
    limits = ReadLimits.of(get_settings(), timed=False)  # the operator can stop it: no time limit
    try:
        if args.roster:
            roster = onboarding.read(args.roster.read_bytes(), args.roster.name, limits)
            sheets.append(("roster", roster))
        if args.staff:
            sheets.append(
                ("staff", staff_import.read(args.staff.read_bytes(), args.staff.name, limits))
            )
        reports = asyncio.run(_run(args, sheets))
    except (OSError, FileError, AppError) as exc:
        print(f"无法导入 (cannot import): {exc}", file=sys.stderr)
        return 2
    for report in reports:
        print(report.model_dump_json(indent=1))
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
