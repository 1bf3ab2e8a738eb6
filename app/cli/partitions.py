"""``python -m app.cli.partitions list|ensure|detach|drop``: the attendance tables'
monthly partitions for the operator (issue 24, item 4; docs/operations.md, "Partitions and
archiving").

``list`` prints every partition, how many rows the DEFAULT partition holds (it should hold none)
and the detached tables waiting to be archived; ``ensure`` creates the months ahead as the
``attendance-partitions`` job does; ``detach --month YYYY-MM`` detaches a past month's partitions
(kept as tables for ``pg_dump -t``); ``drop --month YYYY-MM`` drops them once archived.
"Today" is the service's business clock (a drill's simulated clock when it is one).

Exit status: 0 done, 2 refused (SQLite, the current or a future month, the DEFAULT partition,
a partition not detached first) with the reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.cli import cli_logging
from app.context import AppContext
from app.db import partitions
from app.domain.partitions import PARTITIONED_TABLES, PartitionRefused, parse_month
from app.jobs import sim_clock
from app.jobs.periodic import PARTITIONS_AHEAD
from app.settings import get_settings


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli.partitions",
        description="考勤表月分区: 列出, 预建, 分离, 删除 (attendance partitions)",
    )
    parser.add_argument("action", choices=["list", "ensure", "detach", "drop"])
    parser.add_argument("--month", help="YYYY-MM (detach, drop): 一个过去的月份")
    parser.add_argument(
        "--ahead", type=int, default=PARTITIONS_AHEAD, help="ensure: 预建几个月 (months ahead)"
    )
    parser.add_argument("--database-url", help="默认取 KCBX_DATABASE_URL")
    args = parser.parse_args(argv)
    if args.action in ("detach", "drop") and not args.month:
        parser.error(f"{args.action} 需要 --month YYYY-MM")
    return args


async def _list(ctx: AppContext) -> list[str]:
    if ctx.engine.dialect.name != "postgresql":
        raise partitions.NotPartitioned(ctx.engine.dialect.name)
    lines: list[str] = []
    for table in PARTITIONED_TABLES:
        names = await partitions.listed(ctx.engine, table)
        lines.append(f"{table}: {len(names)} 个分区 (partitions)")
        lines.extend(f"  {n}" for n in names)
        async with ctx.engine.connect() as conn:
            stray = (await conn.execute(text(f"SELECT count(*) FROM {table}_default"))).scalar()
        if stray:
            lines.append(f"  ! {table}_default 有 {stray} 行 (rows in DEFAULT: see operations.md)")
        lines.extend(
            f"  已分离待归档 (detached): {n}" for n in await partitions.detached(ctx.engine, table)
        )
    return lines


async def _run(args: argparse.Namespace) -> list[str]:
    settings = get_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    ctx = AppContext.from_settings(settings)
    try:
        await sim_clock.attach(ctx)  # a drill deployment's clock, when it is one
        today = ctx.clock().date()
        if args.action == "list":
            return await _list(ctx)
        if args.action == "ensure":
            if ctx.engine.dialect.name != "postgresql":
                raise partitions.NotPartitioned(ctx.engine.dialect.name)
            made = await partitions.ensure(ctx.engine, today, ahead=args.ahead)
            return [f"新建 (created): {n}" for n in made] or ["无需新建 (nothing to create)"]
        month = parse_month(args.month)
        if args.action == "detach":
            done = await partitions.detach(
                ctx.engine, month, today, settings.attendance_backfill_days
            )
            return [f"已分离 (detached): {n}" for n in done]
        done = await partitions.drop(ctx.engine, month, today)
        return [f"已删除 (dropped): {n}" for n in done]
    finally:
        await ctx.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    cli_logging()
    try:
        lines = asyncio.run(_run(args))
    except PartitionRefused as exc:
        print(f"拒绝 (refused): {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # a lock not granted within lock_timeout, mostly
        print(f"数据库拒绝 (database refused): {exc.orig}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
