from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.access import Visibility

T = TypeVar("T")


async def paginate(
    session: AsyncSession, stmt: SelectOfScalar[T], *, limit: int, offset: int, order_by: Any
) -> tuple[list[T], int]:
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await session.exec(count)).one()
    if not isinstance(order_by, tuple):
        order_by = (order_by,)
    rows = await session.exec(stmt.order_by(*order_by).limit(limit).offset(offset))
    return list(rows), int(total)


def visible_to(
    vis: Visibility, school_col: Any, class_col: Any | None = None
) -> ColumnElement[bool]:
    """The SQL form of a ``Visibility``: the row's school or class is in the caller's scope."""
    if vis.everything:
        return school_col.is_not(None)  # type: ignore[no-any-return]
    clauses: list[ColumnElement[bool]] = []
    if vis.school_ids:
        clauses.append(school_col.in_(sorted(vis.school_ids)))
    if class_col is not None and vis.class_ids:
        clauses.append(class_col.in_(sorted(vis.class_ids)))
    return or_(*clauses) if clauses else false()
