"""What every repository shares: the scope filter of what an actor may see, paging, and
locking one row for the rest of the transaction."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, func, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.access import Visibility

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)
IN_CHUNK = 1000  # ids per IN (...) so county-sized lists stay under driver parameter limits


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


async def locked_row(session: AsyncSession, model: type[M], ident: int) -> M | None:
    """The row, locked until the transaction ends, so concurrent requests on it run one
    after the other. PostgreSQL: ``FOR NO KEY UPDATE`` (foreign-key checks of rows that
    reference it, e.g. attendance events, are not blocked). SQLite ignores row locks and
    runs plain SELECTs outside a transaction, so a no-op UPDATE first takes the database's
    write lock (other writers wait for the busy timeout)."""
    pk = col(model.id)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        await session.exec(update(model).where(pk == ident).values(id=pk))
    rows = await session.exec(select(model).where(pk == ident).with_for_update(key_share=True))
    return rows.first()


async def row_for_update(session: AsyncSession, model: type[M], ident: int) -> M | None:
    """The row ``SELECT ... FOR UPDATE``: the lock every write of an absence case takes, so
    the case and its alerts are never written under a concurrent change (SQLite serialises
    writers and ignores the clause)."""
    pk = col(model.id)  # type: ignore[attr-defined]
    return (await session.exec(select(model).where(pk == ident).with_for_update())).one_or_none()
