"""``kcbx-import FILE --school-id N``: import a CSV or XLSX roster as the operator.

Uses the same service as POST /api/v1/imports/students (column format: app.roster.parse).
Exit status: 0 when every row was imported, 1 when rows were rejected (in the default
all-or-nothing mode that means nothing was imported), 2 when the file or school is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from app.cli import cli_logging
from app.context import AppContext
from app.core.tables import FileError, ImportMode, ReadLimits
from app.domain.access import Actor, ActorKind
from app.errors import AppError
from app.jobs import sim_clock
from app.roster.imports import import_students
from app.roster.imports_schemas import ImportReport
from app.roster.parse import Roster, read_roster
from app.settings import get_settings

OPERATOR = Actor(kind=ActorKind.staff, id=0, name="kcbx-import", superuser=True)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kcbx-import", description="批量导入学生花名册 (import a CSV/XLSX student roster)"
    )
    parser.add_argument("file", type=Path, help="CSV 或 XLSX 文件")
    parser.add_argument("--school-id", type=int, required=True, help="导入到的学校 id")
    parser.add_argument(
        "--mode",
        choices=[m.value for m in ImportMode],
        default=ImportMode.all_or_nothing.value,
        help="all_or_nothing (默认: 有错则全部不导入) 或 valid_only (只导入无误的行)",
    )
    parser.add_argument("--database-url", help="默认取 KCBX_DATABASE_URL")
    return parser.parse_args(argv)


async def _run(roster: Roster, args: argparse.Namespace) -> ImportReport:
    settings = get_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    ctx = AppContext.from_settings(settings)
    try:
        await sim_clock.attach(ctx)  # a drill deployment's clock, when it is one
        with tqdm(total=len(roster.rows), unit="行", desc="检查", disable=None) as bar:
            async with ctx.uow() as uow:
                return await import_students(
                    uow, ctx, OPERATOR, args.school_id, roster, ImportMode(args.mode), bar.update
                )
    finally:
        await ctx.close()


def _print(report: ImportReport) -> None:
    print(
        f"学校 {report.school_id}: 共 {report.total} 行, 导入 {report.imported} 行, "
        f"有问题 {report.rejected} 行 (total, imported, rejected)"
    )
    for p in report.problems:
        print(f"  第 {p.row} 行  {p.column}: {p.message}")
    if report.rejected and report.mode is ImportMode.all_or_nothing:
        print("有问题行,未导入任何学生;改正后重试,或用 --mode valid_only 只导入无误的行")


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    cli_logging()
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"无法读取文件 (cannot read file): {exc}", file=sys.stderr)
        return 2
    try:
        roster = read_roster(data, args.file.name, ReadLimits.of(get_settings(), timed=False))
        report = asyncio.run(_run(roster, args))
    except (FileError, AppError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    _print(report)
    return 1 if report.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
