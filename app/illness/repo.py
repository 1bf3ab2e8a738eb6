"""The illness tables' queries."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.alerts.engine_repo import among, dialect_name
from app.db.models import (
    IllnessAlert,
    IllnessDayChange,
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


_RECORD = IllnessRecord.__table__  # type: ignore[attr-defined]
_CLASS = SchoolClass.__table__  # type: ignore[attr-defined]
_INSERT_RECORD = _RECORD.insert().values(
    grade_id=sa_select(_CLASS.c.grade_id).where(_CLASS.c.id == bindparam("klass")).scalar_subquery()
)
# What the roll needs of a record to extend it or close it.
_ROLL_COLUMNS = "id student_id school_date last_day returned_on symptoms diagnosis diagnosis_note"


async def records_for_roll(
    session: AsyncSession, back: Collection[int], ill: Collection[int], since: date
) -> list[dict[str, Any]]:
    """One read for a roll batch (locked on PostgreSQL): the records not yet closed by a return
    of the students ``back`` at school, and the records of the ``ill`` students still running
    or ended on or after ``since``; as plain rows (the roll writes them back set-based)."""
    stmt = (
        sa_select(*(_RECORD.c[name] for name in _ROLL_COLUMNS.split()))
        .where(
            or_(
                among(session, _RECORD.c.student_id, back) & _RECORD.c.returned_on.is_(None),
                among(session, _RECORD.c.student_id, ill) & (_RECORD.c.last_day >= since),
            )
        )
        .with_for_update()
    )
    return [dict(r._mapping) for r in await (await session.connection()).execute(stmt)]


@dataclass(frozen=True, slots=True)
class RollWrites:
    """What a roll batch writes to the register: new records (the table's columns, no id),
    records changed (``_UPDATED`` columns: extended, given symptoms or a diagnosis, or closed by
    a return) and the (school, first day) pairs to mark for the ``illness-clusters`` job."""

    new: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    days: set[tuple[int, date]]


_UPDATED = ("symptoms", "last_day", "returned_on", "diagnosis", "diagnosis_note")
_NEW = [
    "county_id",
    "school_id",
    "class_id",
    "student_id",
    "school_date",
    "last_day",
    "kind",
    "event_id",
    "onset_at",
    "onset_place",
    "symptoms",
    "diagnosis",
    "diagnosis_note",
    "recorded_by",
]
# PostgreSQL: the whole write is one statement, arrays unnested (one statement text whatever
# the batch), so a sick batch pays one round trip for the register and the marker together.
# A record is in at most one of the two: new rows have no id yet.
_PG_WRITE = text(
    """
WITH new AS (
  INSERT INTO illness_record (county_id, school_id, class_id, student_id, school_date,
    last_day, kind, event_id, onset_at, onset_place, symptoms, diagnosis, diagnosis_note,
    recorded_by, grade_id, called_family, doctor_seen, created_at, updated_at)
  SELECT t.county_id, t.school_id, t.class_id, t.student_id, t.school_date, t.last_day, t.kind,
    t.event_id, t.onset_at, t.onset_place, CAST(t.symptoms AS JSON), t.diagnosis,
    t.diagnosis_note, t.recorded_by,
    (SELECT c.grade_id FROM school_class c WHERE c.id = t.class_id), false, false, :now, :now
  FROM unnest(
    CAST(:n_county_id AS INT[]), CAST(:n_school_id AS INT[]), CAST(:n_class_id AS INT[]),
    CAST(:n_student_id AS INT[]), CAST(:n_school_date AS DATE[]), CAST(:n_last_day AS DATE[]),
    CAST(:n_kind AS VARCHAR[]), CAST(:n_event_id AS VARCHAR[]),
    CAST(:n_onset_at AS TIMESTAMPTZ[]), CAST(:n_onset_place AS VARCHAR[]),
    CAST(:n_symptoms AS TEXT[]), CAST(:n_diagnosis AS VARCHAR[]),
    CAST(:n_diagnosis_note AS VARCHAR[]), CAST(:n_recorded_by AS VARCHAR[])
  ) AS t(county_id, school_id, class_id, student_id, school_date, last_day, kind, event_id,
         onset_at, onset_place, symptoms, diagnosis, diagnosis_note, recorded_by)
), changed AS (
  UPDATE illness_record r SET symptoms = CAST(u.symptoms AS JSON), last_day = u.last_day,
    returned_on = u.returned_on, diagnosis = u.diagnosis, diagnosis_note = u.diagnosis_note,
    updated_at = :now
  FROM unnest(
    CAST(:u_id AS INT[]), CAST(:u_symptoms AS TEXT[]), CAST(:u_last_day AS DATE[]),
    CAST(:u_returned_on AS DATE[]), CAST(:u_diagnosis AS VARCHAR[]),
    CAST(:u_diagnosis_note AS VARCHAR[])
  ) AS u(id, symptoms, last_day, returned_on, diagnosis, diagnosis_note)
  WHERE r.id = u.id
)
INSERT INTO illness_day_change (school_id, school_date, changed_at)
SELECT school_id, school_date, :now
FROM unnest(CAST(:m_school_id AS INT[]), CAST(:m_school_date AS DATE[]))
  AS m(school_id, school_date)
ON CONFLICT (school_id, school_date) DO UPDATE SET changed_at = EXCLUDED.changed_at
"""
)


async def write_roll(session: AsyncSession, writes: RollWrites, now: datetime) -> None:
    """The register's new and changed records and the day markers of a roll batch: one
    statement on PostgreSQL (``_PG_WRITE``); elsewhere one executemany each."""
    if not (writes.new or writes.updated or writes.days):
        return
    if dialect_name(session) != "postgresql":
        await _insert_records(session, writes.new, now)
        await _update_records(session, writes.updated, now)
        await _mark_days_changed(session, writes.days, now)
        return
    params: dict[str, Any] = {"now": now}
    for name in _NEW:
        params[f"n_{name}"] = [r[name] for r in writes.new]
    for name in ("id", *_UPDATED):
        params[f"u_{name}"] = [r[name] for r in writes.updated]
    params["n_symptoms"] = [json.dumps(r["symptoms"]) for r in writes.new]
    params["u_symptoms"] = [json.dumps(r["symptoms"]) for r in writes.updated]
    days = sorted(writes.days)
    params["m_school_id"] = [s for s, _ in days]
    params["m_school_date"] = [d for _, d in days]
    await (await session.connection()).execute(_PG_WRITE, params)


async def _insert_records(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """New illness records, one executemany of one cached statement; each row's grade is read
    from its class in it (no read of the classes first)."""
    if not rows:
        return
    await (await session.connection()).execute(
        _INSERT_RECORD,
        [
            {
                **{k: r[k] for k in _NEW},
                "klass": r["class_id"],
                "called_family": False,
                "doctor_seen": False,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )


async def _update_records(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Records extended, given symptoms or a diagnosis, or closed by a return: one
    executemany."""
    if not rows:
        return
    stmt = (
        _RECORD.update()
        .where(_RECORD.c.id == bindparam("rid"))
        .values(updated_at=now, **{k: bindparam(f"v_{k}") for k in _UPDATED})
    )
    params = [{"rid": r["id"], **{f"v_{k}": r[k] for k in _UPDATED}} for r in rows]
    await (await session.connection()).execute(stmt, params)


_CHANGE = IllnessDayChange.__table__  # type: ignore[attr-defined]


async def _mark_days_changed(
    session: AsyncSession, days: Collection[tuple[int, date]], now: datetime
) -> None:
    """Mark (school, day) for the ``illness-clusters`` job: an upsert, so a day being looked
    at (locked by the job) gets its marker again once that look commits."""
    if not days:
        return
    stmt = sqlite.insert(_CHANGE).values(
        [{"school_id": s, "school_date": d, "changed_at": now} for s, d in sorted(days)]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["school_id", "school_date"],
        set_={"changed_at": stmt.excluded.changed_at},
    )
    await (await session.connection()).execute(stmt)


async def changed_schools(session: AsyncSession, limit: int) -> list[int]:
    """The schools with days waiting for a look, the oldest change first (unlocked: each is
    claimed on its own by ``claim_days``)."""
    first = func.min(_CHANGE.c.changed_at)
    stmt = (
        sa_select(_CHANGE.c.school_id)
        .group_by(_CHANGE.c.school_id)
        .order_by(first, _CHANGE.c.school_id)
        .limit(limit)
    )
    return [s for (s,) in await (await session.connection()).execute(stmt)]


async def claim_days(session: AsyncSession, school_id: int) -> list[date]:
    """Lock the school's markers for this transaction, in date order; none when they are gone
    (looked at) or another engine holds them (``SKIP LOCKED``: it is looking at them)."""
    stmt = (
        sa_select(_CHANGE.c.school_date)
        .where(_CHANGE.c.school_id == school_id)
        .order_by(_CHANGE.c.school_date)
        .with_for_update(skip_locked=True)
    )
    return [d for (d,) in await (await session.connection()).execute(stmt)]


async def clear_days(session: AsyncSession, school_id: int, days: Collection[date]) -> None:
    stmt = _CHANGE.delete().where(
        _CHANGE.c.school_id == school_id, _CHANGE.c.school_date.in_(list(days))
    )
    await (await session.connection()).execute(stmt)


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


async def insert_alert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """True when this call opened the alert (False: its key was there, or another engine's
    look inserted it first and this one waited for that to commit)."""
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    stmt = insert(IllnessAlert).values(**values).on_conflict_do_nothing(index_elements=["idem_key"])
    result = await (await session.connection()).execute(stmt)
    return bool(result.rowcount == 1)


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
