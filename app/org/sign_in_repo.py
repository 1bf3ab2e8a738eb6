"""Queries over failed sign-ins (the throttle's shared memory)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import SignInFailure


async def recent_failures(
    session: AsyncSession,
    *,
    account: str | None = None,
    client: str | None = None,
    since: datetime,
) -> tuple[int, datetime | None]:
    """How many failures since ``since`` for the account (or the client address), and when
    the oldest of them was."""
    stmt = select(func.count(), func.min(SignInFailure.at)).where(col(SignInFailure.at) >= since)
    if account is not None:
        stmt = stmt.where(SignInFailure.account == account)
    if client is not None:
        stmt = stmt.where(SignInFailure.client == client)
    count, oldest = (await session.exec(stmt)).one()
    return int(count), oldest


def add_failure(session: AsyncSession, *, account: str, client: str, at: datetime) -> None:
    session.add(SignInFailure(account=account, client=client, at=at))


async def forget_account(session: AsyncSession, account: str) -> None:
    await session.exec(delete(SignInFailure).where(col(SignInFailure.account) == account))


async def purge_before(session: AsyncSession, before: datetime) -> None:
    await session.exec(delete(SignInFailure).where(col(SignInFailure.at) < before))
