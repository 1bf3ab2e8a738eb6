"""Numbers of the documents a school issues (转学申请, 返校通知书): the school's code, the
document's series if it has one, the year, and a running count within them —
``QS-01-2026-001`` or ``QS-01-ZX-2026-001``."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel, col, func, select

from app.db.models import School
from app.db.uow import UnitOfWork


async def next_number(
    uow: UnitOfWork,
    model: type[SQLModel],
    *,
    number: Any,
    issuer: Any,
    school: School,
    year: int,
    series: str | None = None,
) -> str:
    """One more than the documents ``school`` already numbered in this series and year
    (``number``: the model's number column; ``issuer``: its issuing school's id column)."""
    prefix = "-".join([school.code, *([series] if series else []), str(year)]) + "-"
    taken = (
        await uow.session.exec(
            select(func.count())
            .select_from(model)
            .where(col(issuer) == school.id, col(number).startswith(prefix))
        )
    ).one()
    return f"{prefix}{int(taken) + 1:03d}"
