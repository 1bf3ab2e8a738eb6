"""访问日志 (access log): who read which data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.access_logs import service as access_logs
from app.access_logs.service import AccessLogOut
from app.api.deps import CurrentActor, Limit, Offset, Uow
from app.core.types import BigId, Id, Instant, Page

router = APIRouter(prefix="/api/v1", tags=["访问日志 Access log"])


@router.get(
    "/access-logs",
    summary="访问日志(谁查看了哪些数据)",
    description="每次登录后的 GET 请求一行:时间、访问者、路径、查询、状态码、客户端地址、"
    "涉及的学生。县教育局管理员查看本县人员的记录(其他县 404),其他人 403。"
    "保存 access_log_days 天(默认 400,不少于 180)。",
)
async def read_access_logs(
    uow: Uow,
    actor: CurrentActor,
    county_id: Id | None = None,
    student_id: Id | None = None,
    actor_id: Annotated[BigId | None, Query(description="访问者(教职工或 API 密钥)的 id")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AccessLogOut]:
    return await access_logs.read(
        uow,
        actor,
        county_id=county_id,
        student_id=student_id,
        actor_id=actor_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
