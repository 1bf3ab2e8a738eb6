"""Queries and writes for cases, alerts, tasks, notifications and policies; the deadline rows' own
queries are in ``app.alerts.deadlines_repo`` (but for the count of failed ones health shows)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    text,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.attendance.repository import students_brief
from app.core.scope import row_for_update
from app.db.models import (
    AbsenceCase,
    Alert,
    AlertPolicyRow,
    CaseTask,
    Deadline,
    Notification,
    ReturnNotice,
    Staff,
    StaffRole,
)
from app.domain.cases import AlertStatus, CaseStatus, TaskKind, TaskStatus
from app.domain.return_notices import IN_FORCE, NoticeStatus
from app.domain.roles import Role
from app.domain.students import StudentBrief


def dialect_name(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def among(session: AsyncSession, column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN ids``. On PostgreSQL one array parameter (``= ANY``): the statement is the
    same whatever the count, so its prepared plan is reused and nothing is expanded."""
    values = sorted(ids)
    if dialect_name(session) == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(Integer)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


async def open_cases(
    session: AsyncSession, student_ids: Collection[int], *, lock: bool = False
) -> dict[int, AbsenceCase]:
    """Cases not closed, by student; locked in student order when ``lock`` (PostgreSQL)."""
    if not student_ids:
        return {}
    stmt = (
        select(AbsenceCase)
        .where(
            col(AbsenceCase.student_id).in_(sorted(student_ids)),
            AbsenceCase.status != CaseStatus.closed.value,
        )
        .order_by(col(AbsenceCase.id))
    )
    if lock:
        stmt = stmt.with_for_update()
    return {c.student_id: c for c in await session.exec(stmt)}


# Advisory-lock namespace (the first key of ``pg_advisory_xact_lock(int, int)``) for
# "judging this student's attendance": the second key is the student id.
_STUDENT_LOCK = 0x6B637378  # "kcsx"
_LOCK_STUDENTS = text("SELECT pg_advisory_xact_lock(:ns, s) FROM unnest(CAST(:ids AS INT[])) AS s")


def locks_students(session: AsyncSession) -> bool:
    """Whether ``lock_students`` takes locks here (PostgreSQL; SQLite serialises writers)."""
    return dialect_name(session) == "postgresql"


async def lock_students(session: AsyncSession, student_ids: Collection[int]) -> None:
    """Serialise, per student, the transactions that may open (or reopen) the student's case:
    a transaction-scoped advisory lock per student, taken in student-id order (so two rolls
    cannot deadlock), held to commit. Taken before the student's cases and marks are read, so
    the second of two simultaneous rolls sees what the first wrote. SQLite serialises writers
    anyway: nothing to do there."""
    if not student_ids or dialect_name(session) != "postgresql":
        return
    conn = await session.connection()
    await conn.execute(_LOCK_STUDENTS, {"ns": _STUDENT_LOCK, "ids": sorted(student_ids)})


# The roll's students locked (as ``lock_students``) and the brief of those not cached read,
# in one round trip. The lock is taken first (a one-row CTE every row joins to); the students'
# rows are read in the snapshot taken before any wait, which is fine: no roll writes them.
_LOCK_STUDENTS_AND_BRIEF = text(
    "WITH locked AS MATERIALIZED ("
    " SELECT count(pg_advisory_xact_lock(:ns, l)) AS n FROM unnest(CAST(:ids AS INT[])) AS l)"
    " SELECT s.id, s.name, s.school_id, s.class_id, s.active, s.home_schooled"
    " FROM locked LEFT JOIN student s ON s.id = ANY(CAST(:brief AS INT[]))"
)


async def lock_students_and_brief(
    session: AsyncSession, student_ids: Collection[int], brief_of: Collection[int]
) -> dict[int, StudentBrief]:
    """``lock_students(student_ids)`` and ``students_brief(brief_of)`` in one statement on
    PostgreSQL (elsewhere the brief alone: SQLite serialises writers)."""
    if dialect_name(session) != "postgresql" or not student_ids:
        await lock_students(session, student_ids)
        return await students_brief(session, brief_of)
    conn = await session.connection()
    rows = await conn.execute(
        _LOCK_STUDENTS_AND_BRIEF,
        {"ns": _STUDENT_LOCK, "ids": sorted(student_ids), "brief": sorted(brief_of)},
    )
    return {
        sid: StudentBrief(sid, name, school_id, class_id, active, home)
        for sid, name, school_id, class_id, active, home in rows
        if sid is not None
    }


async def lock_cases(
    session: AsyncSession, open_of: Collection[int], case_ids: Collection[int]
) -> list[AbsenceCase]:
    """The open cases of the students ``open_of`` and the cases ``case_ids``, locked in one
    statement in case-id order."""
    if not open_of and not case_ids:
        return []
    stmt = (
        select(AbsenceCase)
        .where(
            or_(
                and_(
                    col(AbsenceCase.student_id).in_(sorted(open_of)),
                    col(AbsenceCase.status) != CaseStatus.closed.value,
                ),
                among(session, col(AbsenceCase.id), case_ids),
            )
        )
        .order_by(col(AbsenceCase.id))
        .with_for_update()
    )
    return list(await session.exec(stmt))


async def closed_with_live_alerts(
    session: AsyncSession, student_ids: Collection[int], *, lock: bool = False
) -> list[AbsenceCase]:
    """Closed cases of these students with an alert of their last episode still standing
    (not withdrawn), in case-id order; locked when ``lock``."""
    if not student_ids:
        return []
    standing = (
        sa_select(Alert.id)  # type: ignore[call-overload]
        .where(
            col(Alert.case_id) == col(AbsenceCase.id),
            col(Alert.episode) == col(AbsenceCase.episode),
            col(Alert.status) != AlertStatus.withdrawn.value,
        )
        .exists()
    )
    stmt = (
        select(AbsenceCase)
        .where(among(session, col(AbsenceCase.student_id), student_ids))
        .where(AbsenceCase.status == CaseStatus.closed.value, standing)
        .order_by(col(AbsenceCase.id))
    )
    if lock:
        stmt = stmt.with_for_update(of=AbsenceCase)
    return list(await session.exec(stmt))


async def latest_closed_reenrolled(
    session: AsyncSession, student_ids: Collection[int], *, lock: bool = False
) -> dict[int, AbsenceCase]:
    """Per student, the latest closed case when it was closed as re-enrolled (复学): the one a
    new absence may reopen as a relapse. A later case closed for another reason hides it."""
    if not student_ids:
        return {}
    stmt = (
        select(AbsenceCase)
        .where(among(session, col(AbsenceCase.student_id), student_ids))
        .where(AbsenceCase.status == CaseStatus.closed.value)
        .order_by(col(AbsenceCase.student_id), col(AbsenceCase.id))
    )
    if lock:
        stmt = stmt.with_for_update()
    latest: dict[int, AbsenceCase] = {}
    for row in await session.exec(stmt):
        latest[row.student_id] = row
    return {sid: c for sid, c in latest.items() if c.close_reason == "reenrolled"}


async def cancel_open_tasks(
    session: AsyncSession, case_id: int, kind: str, note: str, now: datetime
) -> None:
    """Closes the case's open tasks of ``kind`` as cancelled (the ``CancelTasks`` effect)."""
    await session.exec(
        update(CaseTask)
        .where(
            col(CaseTask.case_id) == case_id,
            col(CaseTask.kind) == kind,
            col(CaseTask.status) == TaskStatus.open.value,
        )
        .values(status=TaskStatus.cancelled.value, done_at=now, note=note)
    )


async def strike_off_notices(
    session: AsyncSession, case_id: int, on: date, reason: str, now: datetime
) -> list[str]:
    """Strikes off (销号) the case's return notices in force (the ``StrikeOffNotices``
    effect); returns their numbers, in notice order."""
    rows = await session.exec(
        select(ReturnNotice)
        .where(col(ReturnNotice.case_id) == case_id, col(ReturnNotice.status).in_(IN_FORCE))
        .order_by(col(ReturnNotice.id))
    )
    numbers: list[str] = []
    for notice in rows.all():
        notice.status = NoticeStatus.struck_off.value
        notice.struck_off_on = on
        notice.strike_off_reason = reason
        notice.updated_at = now
        session.add(notice)
        numbers.append(notice.number)
    return numbers


async def cases_a_transfer_ends(session: AsyncSession, student_id: int) -> list[AbsenceCase]:
    """The student's cases a transfer acts on, locked in case-id order (the order every engine
    job locks cases in): the one not closed, and the closed ones that left a follow-up check
    open or a return notice in force."""
    follow_ups = select(CaseTask.case_id).where(
        col(CaseTask.kind) == TaskKind.follow_up.value,
        col(CaseTask.status) == TaskStatus.open.value,
    )
    notices = select(ReturnNotice.case_id).where(
        col(ReturnNotice.student_id) == student_id, col(ReturnNotice.status).in_(IN_FORCE)
    )
    stmt = (
        select(AbsenceCase)
        .where(
            col(AbsenceCase.student_id) == student_id,
            or_(
                col(AbsenceCase.status) != CaseStatus.closed.value,
                col(AbsenceCase.id).in_(follow_ups),
                col(AbsenceCase.id).in_(notices),
            ),
        )
        .order_by(col(AbsenceCase.id))
        .with_for_update()
    )
    return list(await session.exec(stmt))


async def tasks_to_remind(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[CaseTask, AbsenceCase]]:
    """Open tasks due by ``now`` whose reminder or escalation is not yet written, with their
    cases, oldest first; locked so a second engine skips them. ``status = 'open'`` is literal
    so the partial index ``ix_case_task_open_due`` applies."""
    stmt = (
        select(CaseTask, AbsenceCase)
        .join(AbsenceCase, col(AbsenceCase.id) == col(CaseTask.case_id))
        .where(
            col(CaseTask.status) == literal_column("'open'"),
            col(CaseTask.due_at) <= now,
            col(CaseTask.reminded_at).is_(None) | col(CaseTask.escalated_at).is_(None),
            # A closed case's tasks are history, except the checks that follow 复学.
            (col(AbsenceCase.status) != CaseStatus.closed.value)
            | (col(CaseTask.kind) == TaskKind.follow_up.value),
        )
        .order_by(col(CaseTask.due_at), col(CaseTask.id))
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(of=CaseTask, skip_locked=True)
    return [(t, c) for t, c in await session.exec(stmt)]


async def case_for_update(session: AsyncSession, case_id: int) -> AbsenceCase | None:
    return await row_for_update(session, AbsenceCase, case_id)


async def alerts_of(session: AsyncSession, case_ids: Collection[int]) -> dict[int, list[Alert]]:
    found: dict[int, list[Alert]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return found
    rows = await session.exec(
        select(Alert).where(among(session, col(Alert.case_id), case_ids)).order_by(col(Alert.seq))
    )
    for a in rows:
        found[a.case_id].append(a)
    return found


class FailedDeadlines(NamedTuple):
    total: int
    oldest_due_at: datetime | None
    last_error: str | None


async def failed_deadlines(session: AsyncSession) -> FailedDeadlines:
    table = Deadline.__table__  # type: ignore[attr-defined]
    failed = table.c.state == literal_column("'failed'")
    conn = await session.connection()
    count, oldest = (
        await conn.execute(sa_select(func.count(), func.min(table.c.due_at)).where(failed))
    ).one()
    error = (
        await conn.execute(
            sa_select(table.c.last_error).where(failed).order_by(table.c.retry_at.desc()).limit(1)
        )
    ).scalar_one_or_none()
    return FailedDeadlines(int(count), oldest, error)


class Held(NamedTuple):
    """A late notice awaiting its digest."""

    id: int
    staff_id: int
    school_id: int | None
    role: str | None
    topic: str
    title: str
    level: str | None
    created_at: datetime


async def awaiting_digest(session: AsyncSession, limit: int) -> list[Held]:
    table = Notification.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(
            table.c.id,
            table.c.staff_id,
            table.c.school_id,
            table.c.role,
            table.c.topic,
            table.c.title,
            table.c.level,
            table.c.created_at,
        )
        .where(table.c.digest_pending)
        .order_by(table.c.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    conn = await session.connection()
    return [Held(*row) for row in await conn.execute(stmt)]


async def release_digested(session: AsyncSession, ids: Collection[int]) -> None:
    table = Notification.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    # Notification ids are 64-bit: a plain IN, not the int4 array of ``_among``.
    await conn.execute(
        update(table).where(table.c.id.in_(sorted(ids))).values(digest_pending=False)
    )


async def cases_by_id(
    session: AsyncSession, case_ids: Collection[int], *, lock: bool
) -> dict[int, AbsenceCase]:
    if not case_ids:
        return {}
    stmt = select(AbsenceCase).where(among(session, col(AbsenceCase.id), case_ids))
    stmt = stmt.order_by(col(AbsenceCase.id))  # one lock order for every engine: no deadlock
    if lock:
        stmt = stmt.with_for_update()
    return {c.id: c for c in await session.exec(stmt) if c.id is not None}


def _scope_column(role: Role) -> Any:
    """The staff_role column that holds ``role``'s scope id (``recipient_scope``)."""
    if role in (Role.head_teacher, Role.subject_teacher):
        return col(StaffRole.class_id)
    if role in (Role.county_admin, Role.county_health):
        return col(StaffRole.county_id)
    return col(StaffRole.school_id)


def class_scope(role: Role, class_id: int) -> int | None:
    """``class_id`` if ``role`` is held per class, else None: the roles a vacancy falls to
    are above it (``stand_ins``), so a school-level role's recipients never depend on it."""
    return class_id if role in (Role.head_teacher, Role.subject_teacher) else None


def recipient_scope(role: Role, *, county_id: int, school_id: int, class_id: int) -> int:
    """The id that decides who holds ``role`` for a student (see ``recipients``)."""
    if role in (Role.head_teacher, Role.subject_teacher):
        return class_id
    if role in (Role.county_admin, Role.county_health):
        return county_id
    return school_id


async def recipients(
    session: AsyncSession, role: Role, *, county_id: int, school_id: int, class_id: int
) -> list[tuple[int, str]]:
    """Active staff holding ``role`` for this student: (id, name)."""
    scope = recipient_scope(role, county_id=county_id, school_id=school_id, class_id=class_id)
    stmt = (
        select(Staff.id, Staff.name)
        .join(StaffRole, col(StaffRole.staff_id) == Staff.id)
        .where(StaffRole.role == role.value, col(Staff.active), _scope_column(role) == scope)
    )
    rows = await session.exec(stmt.order_by(col(Staff.id)).distinct())
    return [(sid, name) for sid, name in rows if sid is not None]


async def recipients_of_roles(
    session: AsyncSession,
    roles: Collection[Role],
    *,
    county_id: int,
    school_id: int,
    class_id: int,
) -> dict[Role, list[tuple[int, str]]]:
    """``recipients`` of several roles for one student in one statement (a role and the
    stand-ins a vacancy falls to): every role named is in the answer, maybe with nobody."""
    scoped = []
    for role in roles:
        scope = recipient_scope(role, county_id=county_id, school_id=school_id, class_id=class_id)
        scoped.append(and_(col(StaffRole.role) == role.value, _scope_column(role) == scope))
    found: dict[Role, list[tuple[int, str]]] = {role: [] for role in roles}
    if not scoped:
        return found
    stmt = (
        sa_select(col(StaffRole.role), col(Staff.id), col(Staff.name))
        .join(StaffRole, col(StaffRole.staff_id) == Staff.id)
        .where(col(Staff.active), or_(*scoped))
        .distinct()
        .order_by(col(Staff.id))
    )
    # A Core statement on the connection: the sweep asks this once per school of a batch,
    # and the ORM's per-statement cost was most of its time.
    conn = await session.connection()
    for held, sid, name in await conn.execute(stmt):
        if sid is not None:
            found[Role(held)].append((sid, name))
    return found


async def recipients_among(
    session: AsyncSession, role: Role, scopes: Collection[int]
) -> dict[int, list[tuple[int, str]]]:
    """``recipients`` for many scope ids (``recipient_scope``) of one role in one statement:
    every id of ``scopes`` is in the answer, with no one if nobody holds the role there."""
    column = _scope_column(role)
    stmt = (
        sa_select(column, col(Staff.id), col(Staff.name))
        .join(StaffRole, col(StaffRole.staff_id) == Staff.id)
        .where(col(StaffRole.role) == role.value, col(Staff.active), among(session, column, scopes))
        .distinct()
        .order_by(column, col(Staff.id))
    )
    found: dict[int, list[tuple[int, str]]] = {scope: [] for scope in scopes}
    conn = await session.connection()
    for scope, sid, name in await conn.execute(stmt):
        if sid is not None and scope is not None:
            found[scope].append((sid, name))
    return found


async def touch_cases(session: AsyncSession, case_ids: Collection[int], at: datetime) -> None:
    """Move ``updated_at`` of cases a transition left as they were (one statement)."""
    if not case_ids:
        return
    table = AbsenceCase.__table__  # type: ignore[attr-defined]
    stmt = update(table).where(among(session, table.c.id, case_ids)).values(updated_at=at)
    conn = await session.connection()
    await conn.execute(stmt)


async def policy_rows(
    session: AsyncSession, county_id: int, school_id: int
) -> tuple[AlertPolicyRow | None, AlertPolicyRow | None]:
    keys = [f"county:{county_id}", f"school:{school_id}"]
    rows = {
        r.scope_key: r
        for r in await session.exec(
            select(AlertPolicyRow).where(col(AlertPolicyRow.scope_key).in_(keys))
        )
    }
    return rows.get(keys[0]), rows.get(keys[1])


async def policy_row(session: AsyncSession, scope_key: str) -> AlertPolicyRow | None:
    """The stored policy of one county or school (``county:<id>`` / ``school:<id>``)."""
    stmt = select(AlertPolicyRow).where(AlertPolicyRow.scope_key == scope_key)
    return (await session.exec(stmt)).one_or_none()


# --- the sweep's plain reads ----------------------------------------------------------------


class CaseRow(NamedTuple):
    """What firing a deadline reads of a case: plain values, not an ORM object (a sweep batch
    loads hundreds). The JSON columns come as their text (``run``, ``policy``), so the engine
    parses each distinct text once (``app.alerts.engine``) instead of the driver decoding
    every row's."""

    id: int
    student_id: int
    county_id: int
    school_id: int
    class_id: int
    status: str
    episode: int
    opened_at: datetime
    run: str
    contact_day: date | None
    contact_attempt: int
    contact_done: bool
    report_status: str | None
    report_round: int
    reenroll_due: datetime | None
    close_reason: str | None
    closed_at: datetime | None
    version: int
    policy: str


class AlertRow(NamedTuple):
    """A case's alert as the sweep reads it (``days`` as its JSON text)."""

    id: int
    case_id: int
    key: str
    level: str
    episode: int
    seq: int
    status: str
    raised_at: datetime
    days: str
    verify_due: datetime


def _plain(table: Any, fields: tuple[str, ...], as_text: tuple[str, ...]) -> list[Any]:
    return [cast(table.c[f], Text) if f in as_text else table.c[f] for f in fields]


async def case_rows_for_update(
    session: AsyncSession, case_ids: Collection[int]
) -> dict[int, CaseRow]:
    """The cases ``case_ids``, locked in id order (one lock order for every engine: no
    deadlock), as plain rows."""
    if not case_ids:
        return {}
    table = AbsenceCase.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(*_plain(table, CaseRow._fields, ("run", "policy")))
        .where(among(session, table.c.id, case_ids))
        .order_by(table.c.id)
        .with_for_update()
    )
    conn = await session.connection()
    return {row[0]: CaseRow(*row) for row in await conn.execute(stmt)}


async def alert_rows(session: AsyncSession, case_ids: Collection[int]) -> dict[int, list[AlertRow]]:
    """The alerts of ``case_ids`` in raising order, as plain rows, by case."""
    found: dict[int, list[AlertRow]] = {cid: [] for cid in case_ids}
    if not case_ids:
        return found
    table = Alert.__table__  # type: ignore[attr-defined]
    stmt = (
        sa_select(*_plain(table, AlertRow._fields, ("days",)))
        .where(among(session, table.c.case_id, case_ids))
        .order_by(table.c.seq)
    )
    conn = await session.connection()
    for row in await conn.execute(stmt):
        found[row[1]].append(AlertRow(*row))
    return found
