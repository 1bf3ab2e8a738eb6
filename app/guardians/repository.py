"""Queries of the family feature. Reads of the engine and leave tables are here, named, so the
engine's and the intake's storage can change under them in one place."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AbsenceCase,
    GuardianAccount,
    GuardianAnswer,
    GuardianChild,
    GuardianNotice,
    GuardianOptOut,
    GuardianSettings,
    LeaveRequest,
    School,
    Student,
)


async def enabled_schools(session: AsyncSession) -> list[tuple[GuardianSettings, School]]:
    rows = await session.exec(
        select(GuardianSettings, School)
        .join(School, col(School.id) == GuardianSettings.school_id)
        .where(col(GuardianSettings.enabled), col(School.active))
        .order_by(col(School.id))
    )
    return list(rows.all())


async def unexplained_on(session: AsyncSession, school_id: int, day: date) -> list[AbsenceCase]:
    """Open cases of the school whose run of unexplained absence includes ``day``: the engine's
    judgement of "absent without leave or explanation" (leave and late arrivals close or
    withdraw them)."""
    rows = await session.exec(
        select(AbsenceCase).where(
            AbsenceCase.school_id == school_id, col(AbsenceCase.status) != "closed"
        )
    )
    return [c for c in rows if day.isoformat() in c.run]


async def covered_by_leave(
    session: AsyncSession, student_ids: Collection[int], day: date
) -> set[int]:
    """Students with a pending or approved leave covering ``day`` (a report ahead is pending
    until the head teacher decides: it still means the family has explained)."""
    if not student_ids:
        return set()
    rows = await session.exec(
        select(LeaveRequest.student_id).where(
            col(LeaveRequest.student_id).in_(sorted(student_ids)),
            col(LeaveRequest.status).in_(("pending", "approved")),
            col(LeaveRequest.start_date) <= day,
            col(LeaveRequest.end_date) >= day,
        )
    )
    return set(rows.all())


async def noticed(session: AsyncSession, school_id: int, day: date) -> set[str]:
    rows = await session.exec(
        select(GuardianNotice.mobile).where(
            GuardianNotice.school_id == school_id, GuardianNotice.school_date == day
        )
    )
    return set(rows.all())


async def opt_outs(session: AsyncSession, mobiles: Collection[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    if not mobiles:
        return found
    rows = await session.exec(
        select(GuardianOptOut).where(col(GuardianOptOut.mobile).in_(sorted(mobiles)))
    )
    for row in rows:
        found.setdefault(row.mobile, set()).add(row.channel)
    return found


async def students(session: AsyncSession, ids: Collection[int]) -> dict[int, Student]:
    if not ids:
        return {}
    rows = await session.exec(select(Student).where(col(Student.id).in_(sorted(ids))))
    return {s.id or 0: s for s in rows}


async def answers_since(session: AsyncSession, mobile: str, since: datetime) -> int:
    got = await session.exec(
        select(func.count())
        .select_from(GuardianAnswer)
        .where(GuardianAnswer.mobile == mobile, col(GuardianAnswer.at) >= since)
    )
    return int(got.one())


async def answers_of(session: AsyncSession, notice_id: int) -> dict[int, GuardianAnswer]:
    rows = await session.exec(select(GuardianAnswer).where(GuardianAnswer.notice_id == notice_id))
    return {a.student_id: a for a in rows}


async def open_case_for_update(session: AsyncSession, student_id: int) -> AbsenceCase | None:
    stmt = select(AbsenceCase).where(
        AbsenceCase.student_id == student_id, col(AbsenceCase.status) != "closed"
    )
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def openids(session: AsyncSession, families: dict[str, list[int]]) -> dict[str, str]:
    """Mobile → the openid of the parents' mini-program account signed in with that mobile and
    still bound to one of that family's children (the latest account, if several)."""
    if not families:
        return {}
    rows = await session.exec(
        select(GuardianAccount.mobile, GuardianAccount.openid, GuardianChild.student_id)
        .join(GuardianChild, col(GuardianChild.account_id) == GuardianAccount.id)
        .where(col(GuardianAccount.mobile).in_(sorted(families)))
        .order_by(col(GuardianAccount.id))
    )
    found: dict[str, str] = {}
    for mobile, openid, student_id in rows:
        if mobile is not None and student_id in families.get(mobile, ()):
            found[mobile] = openid
    return found


async def unapproved_family_leaves(
    session: AsyncSession, student_id: int
) -> list[tuple[date, date]]:
    """(start, end) of the student's leaves a guardian asked for (a report ahead or an answer)
    that the school has not approved yet: what the per-guardian limit counts."""
    rows = await session.exec(
        select(col(LeaveRequest.start_date), col(LeaveRequest.end_date)).where(
            LeaveRequest.student_id == student_id,
            LeaveRequest.status == "pending",
            col(LeaveRequest.requested_by).startswith("guardian"),
        )
    )
    return [(a, b) for a, b in rows]


async def latest_valid_notice(
    session: AsyncSession, mobile: str, wall_now: datetime
) -> GuardianNotice | None:
    """The newest notice to this mobile whose answer link has not expired (real clock)."""
    rows = await session.exec(
        select(GuardianNotice)
        .where(GuardianNotice.mobile == mobile, col(GuardianNotice.link_expires_at) > wall_now)
        .order_by(col(GuardianNotice.id).desc())
        .limit(1)
    )
    return rows.first()
