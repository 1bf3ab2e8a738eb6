"""Loading a record or answering 404, and applying a partial update, the same way everywhere."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

from app.db.models import School
from app.db.uow import UnitOfWork
from app.errors import Invalid, NotFound

M = TypeVar("M", bound=SQLModel)


async def get_or_404(uow: UnitOfWork, model: type[M], ident: int, label: str) -> M:
    obj = await uow.session.get(model, ident)
    if obj is None:
        raise NotFound(label, ident)
    return obj


async def school_row(uow: UnitOfWork, school_id: int) -> School:
    """A school that must exist: the caller holds a row that references it."""
    school = await uow.session.get(School, school_id)
    assert school is not None
    return school


def apply_changes(
    obj: SQLModel, changes: BaseModel, *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Copy the fields the client actually sent; returns them.

    An explicit ``null`` for a column that cannot be empty is a 422 naming the field (an
    update model's fields are all optional, so its types cannot say which may be cleared).
    """
    sent = {k: v for k, v in changes.model_dump(exclude_unset=True).items() if k not in skip}
    table = getattr(type(obj), "__table__", None)
    columns = table.columns if table is not None else {}
    for key, value in sent.items():
        if value is None and key in columns and not columns[key].nullable:
            raise Invalid.field(("body", key), "不能为空 (may not be null)")
    for key, value in sent.items():
        setattr(obj, key, value)
    return sent
