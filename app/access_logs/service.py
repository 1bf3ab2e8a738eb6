"""The access log (访问日志): who read which data, kept ``access_log_days`` (400 by default,
never fewer than 180: 网络安全法 第21条 asks for six months).

Decisions:
- every authenticated ``GET`` under ``/api/v1`` is logged — students, cases, ledgers,
  reports, exports, the inbox — with the actor, path, query, status (a refused 403/404 is an
  attempt worth keeping) and client address; the student is named when the path names one
  (``/students/{id}/…``) or the query does (``student_id``), and every student the answer
  concerned is tied to the row (``access_log_student``): a case, an alert, a leave, a
  transfer, a return notice's document, a ledger or report export — whatever shape names a
  student (app/core/read_scope.py; at most 20,000 students per read). ``?student_id=`` on the
  log finds all of them. Writes are not logged here: the records they make name who made
  them. Requests without a valid sign-in are not logged;
- the row is written after the response, in its own unit of work; a failure to write it is
  reported in the server log and does not fail the request that was already answered;
- the county's admins read the log of actors of their county (``county_id`` is the county of
  the actor's first role; another county 404; superusers see everything); anyone else 403;
- rows older than the retention are deleted by the engine (hourly, idempotent).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import Field

from app.access_logs import repository as repo
from app.context import AppContext
from app.core.types import Page, Schema
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.roles import Role
from app.errors import Forbidden, NotFound


class AccessLogOut(Schema):
    ties_student: ClassVar[bool] = False  # reading the log is not reading the students

    id: int
    at: datetime
    actor_kind: str
    actor_id: int
    actor_name: str
    method: str
    path: str
    query: str
    status: int = Field(description="HTTP 状态码")
    client: str | None
    student_id: int | None


async def write(ctx: AppContext, row: dict[str, object], students: Collection[int] = ()) -> None:
    async with ctx.uow() as uow:
        await repo.add(uow.session, row, students)
        await uow.commit()


async def read(
    uow: UnitOfWork,
    actor: Actor,
    *,
    county_id: int | None,
    student_id: int | None,
    actor_id: int | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> Page[AccessLogOut]:
    if not actor.superuser:
        admin_of = {g.county_id for g in actor.grants if g.role is Role.county_admin}
        if not admin_of or not actor.manages_people:
            raise Forbidden("只有县教育局管理员可查看访问日志 (county administrators only)")
        if county_id is None:
            county_id = min(admin_of)
        elif county_id not in admin_of:
            raise NotFound("县", county_id)
    total, rows = await repo.page(
        uow.session,
        county_id=county_id,
        student_id=student_id,
        actor_id=actor_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    items = [AccessLogOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def purge(ctx: AppContext) -> int:
    """Delete rows older than the retention; returns how many."""
    before = ctx.clock() - timedelta(days=ctx.settings.access_log_days)
    async with ctx.uow() as uow:
        gone = await repo.purge(uow.session, before)
        await uow.commit()
    return gone
