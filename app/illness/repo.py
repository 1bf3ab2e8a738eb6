"""The illness tables' queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.repository import dialect_name
from app.db.models import (
    IllnessAlert,
    IllnessRecord,
    IllnessReport,
    IllnessRule,
    LeaveRequest,
    ReturnCertificate,
    SchoolClass,
)


async def grades_of(session: AsyncSession, class_ids: Collection[int]) -> dict[int, int]:
    rows = await session.exec(
        select(SchoolClass.id, SchoolClass.grade_id).where(col(SchoolClass.id).in_(list(class_ids)))
    )
    return {cid: gid for cid, gid in rows if cid is not None}


async def records_for_roll(
    session: AsyncSession, back: Collection[int], ill: Collection[int], since: date
) -> list[IllnessRecord]:
    """One read for a roll batch (locked on PostgreSQL): the records not yet closed by a return
    of the students ``back`` at school, and the records of the ``ill`` students still running
    or ended on or after ``since``."""
    stmt = (
        select(IllnessRecord)
        .where(
            or_(
                col(IllnessRecord.student_id).in_(list(back))
                & col(IllnessRecord.returned_on).is_(None),
                col(IllnessRecord.student_id).in_(list(ill))
                & (col(IllnessRecord.last_day) >= since),
            )
        )
        .with_for_update()
    )
    return list(await session.exec(stmt))


async def school_records(
    session: AsyncSession, school_ids: Collection[int], start: date, end: date
) -> list[IllnessRecord]:
    """Records that began in, or ran into, [start, end]."""
    stmt = (
        select(IllnessRecord)
        .where(col(IllnessRecord.school_id).in_(list(school_ids)))
        .where(col(IllnessRecord.school_date) <= end, col(IllnessRecord.last_day) >= start)
        .order_by(col(IllnessRecord.school_date), col(IllnessRecord.id))
    )
    return list(await session.exec(stmt))


async def sick_leaves(
    session: AsyncSession, school_ids: Collection[int], start: date, end: date
) -> list[LeaveRequest]:
    """Sick leave (pending or approved) covering any day of [start, end]: the same register."""
    stmt = (
        select(LeaveRequest)
        .where(col(LeaveRequest.school_id).in_(list(school_ids)))
        .where(LeaveRequest.leave_type == "sick")
        .where(col(LeaveRequest.status).in_(["pending", "approved"]))
        .where(col(LeaveRequest.start_date) <= end, col(LeaveRequest.end_date) >= start)
        .order_by(col(LeaveRequest.start_date), col(LeaveRequest.id))
    )
    return list(await session.exec(stmt))


async def county_rules(session: AsyncSession, county_id: int) -> list[IllnessRule]:
    stmt = (
        select(IllnessRule)
        .where(IllnessRule.county_id == county_id)
        .order_by(col(IllnessRule.code))
    )
    return list(await session.exec(stmt))


async def rule_row(session: AsyncSession, county_id: int, code: str) -> IllnessRule | None:
    stmt = select(IllnessRule).where(IllnessRule.county_id == county_id, IllnessRule.code == code)
    return (await session.exec(stmt)).first()


async def absorbing_alerts(session: AsyncSession, school_id: int, day: date) -> list[IllnessAlert]:
    """The school's cluster alerts whose window still takes cases on ``day`` (locked)."""
    stmt = (
        select(IllnessAlert)
        .where(IllnessAlert.school_id == school_id)
        .where(col(IllnessAlert.window_start) <= day, col(IllnessAlert.window_end) >= day)
        .order_by(col(IllnessAlert.id))
        .with_for_update()
    )
    return list(await session.exec(stmt))


async def insert_alert(session: AsyncSession, values: dict[str, Any]) -> None:
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    stmt = insert(IllnessAlert).values(**values).on_conflict_do_nothing(index_elements=["idem_key"])
    await (await session.connection()).execute(stmt)


async def alert_by_key(session: AsyncSession, key: str) -> IllnessAlert | None:
    stmt = select(IllnessAlert).where(IllnessAlert.idem_key == key).with_for_update()
    return (await session.exec(stmt)).first()


async def alerts_of(
    session: AsyncSession, school_ids: Collection[int] | None, county_id: int | None
) -> list[IllnessAlert]:
    stmt = select(IllnessAlert).order_by(col(IllnessAlert.id).desc())
    if school_ids is not None:
        stmt = stmt.where(col(IllnessAlert.school_id).in_(list(school_ids)))
    if county_id is not None:
        stmt = stmt.where(IllnessAlert.county_id == county_id)
    return list(await session.exec(stmt.limit(500)))


async def overdue_alerts(session: AsyncSession, now: datetime, limit: int) -> list[IllnessAlert]:
    """Open alerts past their report deadline, claimed (a second engine skips them)."""
    stmt = (
        select(IllnessAlert)
        .where(IllnessAlert.status == "open", col(IllnessAlert.report_due) <= now)
        .order_by(col(IllnessAlert.report_due), col(IllnessAlert.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.exec(stmt))


async def certificates(
    session: AsyncSession, record_ids: Collection[int]
) -> dict[int, ReturnCertificate]:
    if not record_ids:
        return {}
    stmt = select(ReturnCertificate).where(col(ReturnCertificate.record_id).in_(list(record_ids)))
    return {c.record_id: c for c in await session.exec(stmt)}


async def returned_between(
    session: AsyncSession, school_ids: Collection[int], start: date, end: date
) -> list[IllnessRecord]:
    stmt = (
        select(IllnessRecord)
        .where(col(IllnessRecord.school_id).in_(list(school_ids)))
        .where(col(IllnessRecord.returned_on).is_not(None))
        .where(or_(col(IllnessRecord.returned_on) >= start))
        .where(col(IllnessRecord.returned_on) <= end)
        .order_by(col(IllnessRecord.returned_on), col(IllnessRecord.id))
    )
    return list(await session.exec(stmt))


async def latest_report(session: AsyncSession, alert_id: int) -> IllnessReport | None:
    stmt = (
        select(IllnessReport)
        .where(IllnessReport.alert_id == alert_id)
        .order_by(col(IllnessReport.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()
