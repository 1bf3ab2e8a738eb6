"""The absence-measures job (chronic and intermittent absence, ``app/domain/absence_measures.py``):
for each school, its current term's marks and approved leave read in one statement each, every
student's measures computed, and the results stored in ``absence_measure`` — what the
early-warning list, the student's page and the monthly review read, never the whole history
on each request. Runs hourly in the engine (``absence-measures``) and on demand.

Decisions: a student's school days enrolled are the term's school days up to today (today
only once the student has a mark or leave today), from the student's first recorded day of
the term (a pupil who joined mid-term is not counted absent before); students on the roll
only (学籍 在读 or 复学, active); 送教上门 students are present every day. A school without a
current term has no measures (its rows are kept from the last term until one starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from app.alerts import engine_repo as alerts_repo
from app.alerts.county_rules import rules_for
from app.calendar.repository import school_refs
from app.context import AppContext
from app.core.time import local_today
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.absence_measures import (
    BAND_LABELS,
    BAND_ORDER,
    INTERMITTENT_LABEL,
    Band,
    Day,
    Measure,
    measure,
)
from app.domain.attendance import CHECK_ORDER, Check, DayStatus, Mark, day_status
from app.domain.roles import Role
from app.domain.schools import SchoolRef
from app.org.repository import active_school_ids, head_teachers
from app.reports import measures_repo as repo
from app.reports.early_warning import school_counts

# A term of a school is tens of thousands of days: the enums by value, not by call.
_MARKS = {m.value: m for m in Mark}
_DAYS = {status: Day(status) for status in DayStatus}
_PRESENT = _DAYS[DayStatus.present]
_NOT_RECORDED = _DAYS[DayStatus.not_recorded]
ENTERED_TOPIC = "early_warning.entered"
DIGEST_TOPIC = "early_warning.digest"


def student_days(
    school_days: Sequence[date],
    today: date,
    marks: dict[date, dict[Check, Mark]],
    leave: dict[date, str],
    home_schooled: bool,
    leave_marks: dict[date, str] | None = None,
) -> list[Day]:
    """One student's days for the measure, from the day statuses of the roll. ``leave``:
    the days of approved leave with its type; ``leave_marks``: the type a ``leave`` mark
    gave a day (it wins over the request's)."""
    recorded = marks.keys() | leave.keys()
    if not recorded and not home_schooled:
        return []
    first = min(recorded) if recorded and not home_schooled else school_days[0]
    typed = leave_marks or {}
    days: list[Day] = []
    for d in school_days:
        if d < first or (d == today and d not in recorded and not home_schooled):
            continue
        checks = marks.get(d)
        if checks is None and not home_schooled and d not in leave:
            days.append(_NOT_RECORDED)  # also every day the job's query left out (present)
            continue
        if checks is not None and checks.get(Check.morning) is Mark.present and not home_schooled:
            days.append(_PRESENT)  # nearly every day: the rules' first answer, without the call
            continue
        status = day_status(checks or {}, on_approved_leave=d in leave, home_schooled=home_schooled)
        days.append(
            Day(status, typed.get(d) or leave.get(d))
            if status is DayStatus.leave
            else _DAYS[status]
        )
    return days


async def compute_school(uow: UnitOfWork, school: SchoolRef, now: datetime) -> int:
    """The school's measures, stored in the caller's transaction; returns how many."""
    session = uow.session
    today = local_today(school, now)
    term = await repo.term_on(session, school.id, today)
    if term is None:
        return 0
    rules = (await rules_for(session, school.county_id, school.id)).measure_rules()
    school_days = school.calendar.school_days_between(term.start, today)
    if not school_days:
        return 0
    marks: dict[int, dict[date, dict[Check, Mark]]] = {}
    leave_marks: dict[int, dict[date, str]] = {}
    pupils = await repo.pupils(session, school.id)
    # The days present at 晨检 are left out by the query (they weigh as days without marks).
    for row in await repo.day_marks(session, [p.id for p in pupils], term.start, today):
        sid, day = row.student_id, row.school_date
        statuses = (row.morning, row.noon, row.dismissal)  # in CHECK_ORDER
        marks.setdefault(sid, {})[day] = {
            check: _MARKS[status]
            for check, status in zip(CHECK_ORDER, statuses, strict=True)
            if status
        }
        if row.leave_type:  # the earliest check's, of two leave marks of different types
            leave_marks.setdefault(sid, {})[day] = row.leave_type
    leave: dict[int, dict[date, str]] = {}
    for sid, first, last, kind in await repo.approved_leave(session, school.id, term.start, today):
        covered = leave.setdefault(sid, {})
        d = max(first, term.start)
        while d <= min(last, today):
            covered.setdefault(d, kind)
            d += timedelta(days=1)
    before = await repo.stored(session, school.id)
    rows: list[dict[str, Any]] = []
    entered: list[tuple[repo.Pupil, str]] = []  # (student, the band or flag entered)
    for pupil in pupils:
        days = student_days(
            school_days,
            today,
            marks.get(pupil.id, {}),
            leave.get(pupil.id, {}),
            pupil.home_schooled,
            leave_marks.get(pupil.id),
        )
        m = measure(days, rules)
        rows.append(_row(pupil, school.id, term.id, today, m, now))
        old = before.get(pupil.id)
        if old is not None and old.term_id != term.id:
            old = None  # a new term starts from nothing
        old_band = Band(old.band) if old is not None else Band.none
        if BAND_ORDER.index(m.band) > BAND_ORDER.index(old_band):
            entered.append((pupil, m.band.value))
        if m.intermittent and not (old is not None and old.intermittent):
            entered.append((pupil, "intermittent"))
    await repo.replace_school(session, school.id, rows)
    await _notify_entered(uow, school, term.id, entered, now)
    return len(rows)


async def _notify_entered(
    uow: UnitOfWork,
    school: SchoolRef,
    term_id: int,
    entered: list[tuple[repo.Pupil, str]],
    now: datetime,
) -> None:
    """预警名单: a student entering a band (or a higher one) or becoming intermittent — the
    head teacher is told, and the mentor of a special-group student; once per term and band
    or flag (the notice's key), in the job's transaction (the outbox)."""
    if not entered:
        return
    session = uow.session
    names = await repo.names_of(session, [p.id for p, _ in entered])
    mentors = await repo.mentors_of(session, [p.id for p, _ in entered if p.special_group])
    heads = await head_teachers(session, {p.class_id for p, _ in entered})
    notices: list[Notice] = []
    for pupil, what in entered:
        label = INTERMITTENT_LABEL if what == "intermittent" else BAND_LABELS[Band(what)]
        title = f"进入预警名单:{names.get(pupil.id, '')} 缺勤{label}"
        head = heads.get(pupil.class_id)
        people: list[tuple[int, Role | None]] = [(head[0], Role.head_teacher)] if head else []
        if pupil.id in mentors:
            people.append((mentors[pupil.id], None))  # the mentor: chosen per student
        notices += [
            Notice(
                idem_key=f"measure:{term_id}:{pupil.id}:{what}:{staff_id}",
                staff_id=staff_id,
                role=role,
                topic=ENTERED_TOPIC,
                title=title,
                student_id=pupil.id,
                school_id=school.id,
                created_at=now,
            )
            for staff_id, role in people
        ]
    await outbox.enqueue(session, notices)


def _row(
    pupil: repo.Pupil, school_id: int, term_id: int, as_of: date, m: Measure, now: datetime
) -> dict[str, Any]:
    return {
        "student_id": pupil.id,
        "county_id": pupil.county_id,
        "school_id": school_id,
        "class_id": pupil.class_id,
        "term_id": term_id,
        "as_of": as_of,
        "school_days": m.term.school_days,
        "absent_days": m.term.absent_days,
        "leave_days": m.term.leave_days,
        "late_days": m.term.late_days,
        "rate": round(m.term.rate, 6),
        "band": m.band.value,
        "chronic": m.chronic,
        "intermittent": m.intermittent,
        "window_days": m.window.school_days,
        "window_absent": m.window.absent_days,
        "window_rate": round(m.window.rate, 6),
        "window_band": m.window_band.value,
        "previous_rate": None if m.previous_rate is None else round(m.previous_rate, 6),
        "computed_at": now,
    }


async def weekly_digest(uow: UnitOfWork, school: SchoolRef, now: datetime) -> None:
    """The vice principal's weekly digest of the school's list: one notice per week (the
    key names the week's Monday), written by the first run of the week that finds someone
    listed."""
    counts = await school_counts(uow, school.id)
    if not counts.listed:
        return
    today = local_today(school, now)
    monday = today - timedelta(days=today.weekday())
    title = (
        f"预警名单周汇总:{counts.listed} 人(严重 {counts.severe}、中度 {counts.moderate}、"
        f"风险 {counts.at_risk};间歇性缺勤 {counts.intermittent}、长期缺勤 {counts.chronic})"
    )
    people = await alerts_repo.recipients(
        uow.session,
        Role.vice_principal,
        county_id=school.county_id,
        school_id=school.id,
        class_id=0,
    )
    await outbox.enqueue(
        uow.session,
        [
            Notice(
                idem_key=f"ewdigest:{school.id}:{monday.isoformat()}:{staff_id}",
                staff_id=staff_id,
                role=Role.vice_principal,
                topic=DIGEST_TOPIC,
                title=title,
                school_id=school.id,
                created_at=now,
            )
            for staff_id, _ in people
        ],
    )


async def compute_all(ctx: AppContext) -> int:
    """The periodic job: every active school, one transaction each."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        ids = await active_school_ids(uow.session)
    total = 0
    for school_id in ids:
        async with ctx.uow() as uow:
            refs = await school_refs(uow.session, {school_id})
            if school_id in refs:
                total += await compute_school(uow, refs[school_id], now)
                await weekly_digest(uow, refs[school_id], now)
            await uow.commit()
    return total
