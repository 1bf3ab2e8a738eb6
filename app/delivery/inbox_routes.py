"""消息 (the caller's own in-app inbox)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.api.deps import Ctx, CurrentActor, Limit, Offset, Uow
from app.core.types import BigId
from app.delivery import inbox
from app.delivery.schemas import InboxPage, NotificationOut

router = APIRouter(prefix="/api/v1/inbox", tags=["消息 Inbox"])


@router.get(
    "",
    summary="我的消息",
    description="最新的在前;`unread=true` 只列未读,`unread=false` 只列已读。"
    "API 密钥没有消息箱 (403)。",
)
async def list_inbox(
    uow: Uow,
    actor: CurrentActor,
    unread: bool | None = Query(default=None, description="只看未读 (true) 或已读 (false)"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> InboxPage:
    return await inbox.list_inbox(uow, actor, unread=unread, limit=limit, offset=offset)


@router.post("/{notification_id}/read", summary="标为已读")
async def mark_read(
    notification_id: BigId, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> NotificationOut:
    return await inbox.mark_read(uow, ctx, actor, notification_id)


@router.post(
    "/{notification_id}/acknowledge",
    summary="确认收到(不等于核查预警)",
    description="记录确认时间并标为已读;消息关联的预警若尚无人确认,同时记录预警的确认人和时间。"
    "预警状态不变,核查请用 POST /api/v1/alerts/{id}/verify。",
)
async def acknowledge(
    notification_id: BigId, uow: Uow, ctx: Ctx, actor: CurrentActor
) -> NotificationOut:
    return await inbox.acknowledge(uow, ctx, actor, notification_id)
