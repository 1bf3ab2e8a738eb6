"""学籍异动记录: each change of a student's 学籍 status the service makes — a transfer out or
in, leaving without a transfer, 休学 and 复学 — with its school-local date, cause, document
number and who made it, written in the transaction of the change itself.

A student marked 下落不明 (``15``, left without a transfer) counts as a suspected dropout
from that day (the county's 疑似辍学学生台账 and rates read it from here); confirming the
student's re-enrolment (复学, ``POST /cases/{id}/reenrollment``) sets ``05`` again and is
recorded as 复学."""

from __future__ import annotations

from app.context import AppContext
from app.core.time import local_today
from app.db.models import EnrollmentChange, School, Student
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.students import (
    CHANGE_KIND_LABELS,
    ENROLLMENT_STATUS_LABELS,
    MISSING,
    RESUMED,
    ChangeKind,
)
from app.roster.repository import enrollment_changes_of
from app.roster.schemas import EnrollmentChangeOut
from app.roster.students import student_for


async def record(
    uow: UnitOfWork,
    ctx: AppContext,
    student: Student,
    kind: ChangeKind,
    to_status: str,
    actor: str,
    *,
    school_id: int | None = None,
    from_status: str | None = None,
    reason: str | None = None,
    reference: str | None = None,
) -> None:
    """Record the change from ``from_status`` (default: ``student.status``, so call it before
    setting the new one) at the student's school unless ``school_id`` says otherwise; dated
    that school's today."""
    assert student.id is not None
    where = school_id if school_id is not None else student.school_id
    school = await uow.session.get(School, where)
    assert school is not None
    now = ctx.clock()
    uow.session.add(
        EnrollmentChange(
            student_id=student.id,
            school_id=where,
            kind=kind.value,
            from_status=student.status if from_status is None else from_status,
            to_status=to_status,
            changed_on=local_today(school, now),
            reason=reason,
            reference=reference,
            changed_by=actor,
            created_at=now,
        )
    )


async def resume_if_missing(uow: UnitOfWork, ctx: AppContext, student_id: int, actor: str) -> None:
    """复学 confirmed for a student who had left without a transfer: back to ``05``."""
    student = await uow.session.get(Student, student_id)
    if student is None or student.status != MISSING:
        return
    await record(uow, ctx, student, ChangeKind.resumed, RESUMED, actor, reason="确认复学")
    student.status = RESUMED
    student.updated_at = ctx.clock()
    uow.session.add(student)


async def list_for(uow: UnitOfWork, actor: Actor, student_id: int) -> list[EnrollmentChangeOut]:
    await student_for(uow, actor, student_id)
    rows = await enrollment_changes_of(uow.session, student_id)
    return [
        EnrollmentChangeOut(
            id=c.id or 0,
            student_id=c.student_id,
            school_id=c.school_id,
            kind=ChangeKind(c.kind),
            kind_label=CHANGE_KIND_LABELS[ChangeKind(c.kind)],
            from_status=c.from_status,
            to_status=c.to_status,
            to_status_label=ENROLLMENT_STATUS_LABELS.get(c.to_status, c.to_status),
            changed_on=c.changed_on,
            reason=c.reason,
            reference=c.reference,
            changed_by=c.changed_by,
        )
        for c in rows
    ]
