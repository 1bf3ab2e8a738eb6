"""The roll's one call into illness surveillance, made after the roll's transaction has
decided the day (same transaction, before it commits).

- an event with ``illness`` starts an illness record for the student, or extends the one that
  ran to the previous school day (the same illness absence, day by day), or adds its symptoms
  to today's;
- a present (or late) mark after an illness record's last day says the child is back: the
  record's ``returned_on`` is set (what the 复课证明 check looks at);
- then the school's cluster rules are looked at for each day that got a new case.

Nothing here reads or writes the roll's own tables: the intake hands over the events it
accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import TYPE_CHECKING

from app.calendar.repository import school_refs
from app.context import AppContext
from app.db.models import IllnessRecord
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.attendance import Mark
from app.domain.students import StudentBrief
from app.illness import clusters
from app.illness import repo as repo

if TYPE_CHECKING:
    from app.attendance.schemas import AttendanceEventIn

_BACK = (Mark.present, Mark.late)


async def after_roll(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    events: Sequence[tuple[AttendanceEventIn, StudentBrief]],
) -> None:
    ill = [(e, s) for e, s in events if e.illness is not None]
    back = {(s.id, e.school_date) for e, s in events if e.status in _BACK and e.illness is None}
    if not back and not ill:
        return
    back_ids = {sid for sid, _ in back}
    ill_ids = {s.id for _, s in ill}
    since = (
        date.fromordinal(min(e.school_date for e, _ in ill).toordinal() - 31) if ill else date.max
    )
    # One read serves both: the records a return closes and the sick students' recent ones.
    read = await repo.records_for_roll(uow.session, back_ids, ill_ids, since)
    # A child present again closes the illness absence before that day.
    for record in (r for r in read if r.student_id in back_ids and r.returned_on is None):
        days = sorted(d for sid, d in back if sid == record.student_id and d > record.last_day)
        if days:
            record.returned_on = days[0]
            record.updated_at = ctx.clock()
            uow.session.add(record)
    if not ill:
        return
    schools = await ctx.cache.schools.get_many(
        {s.school_id for _, s in ill}, lambda ids: school_refs(uow.session, ids)
    )
    grades = await repo.grades_of(uow.session, {s.class_id for _, s in ill})
    existing = [r for r in read if r.student_id in ill_ids and r.last_day >= since]
    now = ctx.clock()
    touched: set[tuple[int, date]] = set()
    for event, student in sorted(ill, key=lambda es: (es[0].school_date, es[0].occurred_at)):
        illness = event.illness
        assert illness is not None
        school = schools[student.school_id]
        day = event.school_date
        mine = [r for r in existing if r.student_id == student.id]
        same = next((r for r in mine if r.school_date <= day <= r.last_day), None)
        before = school.calendar.previous_school_day(day, within=31)
        running = next((r for r in mine if r.last_day == before and r.returned_on is None), None)
        symptoms = [s.value for s in illness.symptoms]
        found = same or running
        if found is not None:
            record = found
            record.symptoms = list(dict.fromkeys([*record.symptoms, *symptoms]))
            record.last_day = max(record.last_day, day)
            if illness.diagnosis is not None:
                record.diagnosis = illness.diagnosis.value
                record.diagnosis_note = illness.diagnosis_note
            record.updated_at = now
            touched.add((student.school_id, record.school_date))
        else:
            record = IllnessRecord(
                county_id=school.county_id,
                school_id=student.school_id,
                grade_id=grades.get(student.class_id, 0),
                class_id=student.class_id,
                student_id=student.id,
                school_date=day,
                last_day=day,
                kind="sent_home" if illness.sent_home else "absent",
                event_id=str(event.event_id),
                onset_at=illness.onset_at.astimezone(UTC),
                onset_place=illness.onset_place.value,
                symptoms=symptoms,
                diagnosis=illness.diagnosis.value if illness.diagnosis else None,
                diagnosis_note=illness.diagnosis_note,
                recorded_by=actor.tag,
                created_at=now,
                updated_at=now,
            )
            existing.append(record)
            touched.add((student.school_id, day))
        uow.session.add(record)
    await uow.flush()
    for school_id, day in sorted(touched):
        await clusters.look(uow, ctx, schools[school_id], day)
