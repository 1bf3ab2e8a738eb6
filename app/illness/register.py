"""The illness register (因病缺勤登记): illness absences from the roll and sick leave in one
list, masked for whoever may not see health information; the head teacher's 病因追查.

Decision: a sick leave (pending or approved, with symptoms) *is* an illness absence of the
register — whoever filed it (a head teacher, a guardian's answer, a county system) — read
from the leave itself, never copied, so a later decision on the leave shows at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.calendar.repository import school_refs
from app.context import AppContext
from app.db.models import IllnessRecord, LeaveRequest
from app.db.uow import UnitOfWork
from app.domain import health_access as health
from app.domain.access import Actor
from app.domain.attendance import Symptom
from app.domain.illness import DISEASE_LABELS, Disease
from app.domain.schools import SchoolRef
from app.errors import FieldProblem, Forbidden, Invalid, NotFound
from app.illness import clusters, repo
from app.illness.labels import SYMPTOM_LABELS
from app.illness.schemas import (
    FollowUpIn,
    RegisterEntryOut,
    RegisterOut,
    RegisterSource,
    SymptomLabel,
)
from app.roster import repository as students_repo

MAX_RANGE_DAYS = 62


def symptom_labels(codes: list[str]) -> list[SymptomLabel]:
    return [SymptomLabel(code=Symptom(c), label=SYMPTOM_LABELS[Symptom(c)]) for c in codes]


async def school_ref(uow: UnitOfWork, ctx: AppContext, school_id: int) -> SchoolRef:
    found = await ctx.cache.schools.get_many({school_id}, lambda ids: school_refs(uow.session, ids))
    school = found.get(school_id)
    if school is None:
        raise NotFound("学校", school_id)
    return school


def _range(start: date, end: date) -> None:
    if end < start:
        raise Invalid(
            [FieldProblem(("query", "end"), "结束日期早于开始日期 (end is before start)")]
        )
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid(
            [
                FieldProblem(
                    ("query", "end"), f"最多 {MAX_RANGE_DAYS} 天 (at most {MAX_RANGE_DAYS} days)"
                )
            ]
        )


def record_entry(r: IllnessRecord, name: str, visible: bool, certified: bool) -> RegisterEntryOut:
    assert r.id is not None
    base = RegisterEntryOut(
        source=RegisterSource.roll,
        id=r.id,
        student_id=r.student_id,
        student_name=name,
        school_id=r.school_id,
        class_id=r.class_id,
        start_date=r.school_date,
        last_date=r.last_day,
        kind=r.kind,
        masked=not visible,
        returned_on=r.returned_on,
    )
    if not visible:
        return base
    diagnosis = Disease(r.diagnosis) if r.diagnosis else None
    return base.model_copy(
        update={
            "symptoms": symptom_labels(r.symptoms),
            "onset_at": r.onset_at,
            "onset_place": r.onset_place,
            "diagnosis": diagnosis,
            "diagnosis_label": DISEASE_LABELS[diagnosis] if diagnosis else None,
            "diagnosis_note": r.diagnosis_note,
            "called_family": r.called_family,
            "doctor_seen": r.doctor_seen,
            "followup_note": r.followup_note,
            "followed_up_by": r.followed_up_by,
            "followed_up_at": r.followed_up_at,
            "certificate": certified,
        }
    )


def leave_entry(lv: LeaveRequest, name: str, visible: bool) -> RegisterEntryOut:
    assert lv.id is not None
    base = RegisterEntryOut(
        source=RegisterSource.leave,
        id=lv.id,
        student_id=lv.student_id,
        student_name=name,
        school_id=lv.school_id,
        class_id=lv.class_id,
        start_date=lv.start_date,
        last_date=lv.end_date,
        kind="sick_leave",
        masked=not visible,
    )
    if not visible:
        return base
    return base.model_copy(
        update={"symptoms": symptom_labels(lv.symptoms), "onset_at": lv.onset_at}
    )


async def register(
    uow: UnitOfWork,
    ctx: AppContext,
    actor: Actor,
    *,
    school_id: int,
    class_id: int | None,
    start: date,
    end: date,
) -> RegisterOut:
    _range(start, end)
    school = await school_ref(uow, ctx, school_id)
    county = school.county_id
    records = await repo.school_records(uow.session, [school_id], start, end)
    leaves = await repo.sick_leaves(uow.session, [school_id], start, end)
    if class_id is not None:
        records = [r for r in records if r.class_id == class_id]
        leaves = [lv for lv in leaves if lv.class_id == class_id]
    records = [r for r in records if health.can_list_illness(actor, county, school_id, r.class_id)]
    leaves = [lv for lv in leaves if health.can_list_illness(actor, county, school_id, lv.class_id)]
    allowed = health.can_read_school_illness(actor, county, school_id) or (
        class_id is not None and health.can_list_illness(actor, county, school_id, class_id)
    )
    if not (allowed or records or leaves):
        raise NotFound("学校", school_id)
    names = await students_repo.student_names(
        uow.session, [r.student_id for r in records] + [lv.student_id for lv in leaves]
    )
    certified = await repo.certificates(uow.session, [r.id for r in records if r.id is not None])
    entries = [
        record_entry(
            r,
            names.get(r.student_id, ""),
            health.can_see_health(actor, county, school_id, r.class_id),
            r.id in certified,
        )
        for r in records
    ] + [
        leave_entry(
            lv,
            names.get(lv.student_id, ""),
            health.can_see_health(actor, county, school_id, lv.class_id),
        )
        for lv in leaves
    ]
    entries.sort(key=lambda e: (e.start_date, e.class_id, e.student_id, e.source.value))
    return RegisterOut(school_id=school_id, start=start, end=end, entries=entries)


async def visible_record(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, record_id: int
) -> tuple[IllnessRecord, SchoolRef]:
    record = await uow.session.get(IllnessRecord, record_id, with_for_update=True)
    if record is None:
        raise NotFound("因病缺勤记录", record_id)
    school = await school_ref(uow, ctx, record.school_id)
    if not health.can_list_illness(actor, school.county_id, record.school_id, record.class_id):
        raise NotFound("因病缺勤记录", record_id)
    if not health.can_see_health(actor, school.county_id, record.school_id, record.class_id):
        raise Forbidden(
            "只有疫情报告人、校长、班主任和县卫生健康联络人可查看和登记健康信息 "
            "(health information: 疫情报告人, principal, head teacher, county health contact)"
        )
    return record, school


async def follow_up(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, record_id: int, data: FollowUpIn
) -> RegisterEntryOut:
    record, school = await visible_record(uow, ctx, actor, record_id)
    now = ctx.clock()
    record.called_family = data.called_family
    record.doctor_seen = data.doctor_seen
    if data.symptoms is not None:
        record.symptoms = list(dict.fromkeys(s.value for s in data.symptoms))
    if data.diagnosis is not None:
        record.diagnosis = data.diagnosis.value
    if data.diagnosis_note is not None:
        record.diagnosis_note = data.diagnosis_note
    record.followup_note = data.note
    record.followed_up_by = actor.tag
    record.followed_up_at = now
    record.updated_at = now
    uow.session.add(record)
    await uow.flush()
    # A diagnosis or corrected symptoms may meet a rule (a disease rule counts diagnoses).
    await clusters.look(uow, ctx, school, record.school_date)
    await uow.commit()
    names = await students_repo.student_names(uow.session, [record.student_id])
    certified = await repo.certificates(uow.session, [record_id])
    return record_entry(record, names.get(record.student_id, ""), True, record_id in certified)
