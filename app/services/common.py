from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

from app.db.uow import UnitOfWork
from app.errors import NotFound

M = TypeVar("M", bound=SQLModel)


async def get_or_404(uow: UnitOfWork, model: type[M], ident: int, label: str) -> M:
    obj = await uow.session.get(model, ident)
    if obj is None:
        raise NotFound(label, ident)
    return obj


def apply_changes(
    obj: SQLModel, changes: BaseModel, *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Copy the fields the client actually sent; returns them."""
    sent = {k: v for k, v in changes.model_dump(exclude_unset=True).items() if k not in skip}
    for key, value in sent.items():
        setattr(obj, key, value)
    return sent
