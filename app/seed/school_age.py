"""Demo 适龄儿童台账: the township's list of school-age children for the current school year —
every demo student, plus a few children the township declared (缓学, 外出就读) and a few on
no school's roll (未入学), so the county ledger and 入学率 have something to show."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from app.context import AppContext
from app.core.tables import ImportMode
from app.domain.access import Actor
from app.reports.school_age_import import import_children, read_list

# The children on no roll: what the township declared about each (blank: nothing).
_DECLARED = ("缓学", "外出就读", "", "", "", "")


async def seed_demo_school_age(
    ctx: AppContext,
    actor: Actor,
    county_id: int,
    township: str,
    enrolled: Sequence[tuple[str, str]],
    extra: Callable[[int], tuple[str, str]],
) -> None:
    """``enrolled``: (name, ID number) of the students on a roll; ``extra(i)`` makes the
    i-th child who is on no roll."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "身份证号", "乡镇", "村(社区)", "就学情况", "备注"])
    for name, number in enrolled:
        writer.writerow([name, number, township, "青山村", "", ""])
    for i, declared in enumerate(_DECLARED):
        name, number = extra(i)
        note = "随父母在外省就读" if declared == "外出就读" else ""
        writer.writerow([name, number, township, "石门村", declared, note])
    table = read_list(out.getvalue().encode("utf-8"), "适龄儿童名单.csv")
    async with ctx.uow() as uow:
        await import_children(
            uow, ctx, actor, county_id, table, school_year=None, mode=ImportMode.valid_only
        )
