"""Queries over a school's channel targets (robots, SMS templates) and the webhook
subscriptions; the delivery configuration service (``config.py``) calls these."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import ChannelTarget, WebhookSubscription


async def targets(session: AsyncSession, school_id: int) -> list[ChannelTarget]:
    stmt = select(ChannelTarget).where(ChannelTarget.school_id == school_id)
    return list(await session.exec(stmt.order_by(col(ChannelTarget.channel))))


async def target(session: AsyncSession, school_id: int, channel: str) -> ChannelTarget | None:
    stmt = select(ChannelTarget).where(
        ChannelTarget.school_id == school_id, ChannelTarget.channel == channel
    )
    return (await session.exec(stmt)).one_or_none()


async def subscriptions(session: AsyncSession) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(col(WebhookSubscription.id))
    return list(await session.exec(stmt))
