"""What follows an approved 转学 (transfer), in the approval's transaction.

Decisions:
- one child, one 学籍: a transfer to a school in the system moves the same student record to
  the class the receiving school chose when it signed (status ``01`` 在读, still active); the
  attendance, cases and casework stay with the record, each row keeping the school it was
  written for, and the transfer row says where the student came from. A transfer to a school
  outside the system sets ``10`` (转学) and deactivates the student, as before;
- what a transfer does to the student's cases goes through the case machine
  (``TransferredOut``, ``app/domain/cases.py``), one transition per case it acts on (the open
  one and the closed ones that left something open: ``engine_repo.cases_a_transfer_ends``):
  an open absence case (or one awaiting 复学 confirmation) closes as ``transferred``, its
  pending deadlines fall silent (the fence), its open tasks are cancelled, and the recipients
  of its alerts are told by the case.closed webhook and the timeline; on every such case the
  open follow-up checks (复学后跟踪回访) are cancelled (the sending school's head teacher can
  no longer make them) and the return notices in force (返校通知书) are struck off (销号) with
  the transfer as the reason, each with its timeline entry (effects the engine writes);
- the current mentor (成长导师, a teacher of the sending school) assignment ends that day;
- the 学籍异动记录 gets a 转出 at the sending school and, for a school in the system, a 转入
  at the receiving one, both with the document number.
"""

from __future__ import annotations

from app.alerts import engine, status_history
from app.alerts import engine_repo as alerts_repo
from app.casework import care_repo
from app.context import AppContext
from app.core.time import local_today
from app.db.models import School, Student, Transfer
from app.db.uow import UnitOfWork
from app.domain.cases import TransferredOut
from app.domain.students import STUDYING, TRANSFERRED, ChangeKind
from app.roster.enrollment_changes import record


async def on_transfer_approved(
    uow: UnitOfWork, ctx: AppContext, t: Transfer, student: Student, actor: str
) -> None:
    now = ctx.clock()
    sending = await uow.session.get(School, t.from_school_id)
    assert sending is not None and student.id is not None
    today = local_today(sending, now)
    event = TransferredOut(t.to_school_name, now, today)
    for row in await alerts_repo.cases_a_transfer_ends(uow.session, student.id):
        await engine.apply_event(uow, ctx, row, event, actor)
    await care_repo.end_mentoring(uow.session, student.id, today)
    why = f"转入{t.to_school_name}:{t.reason}"
    await record(
        uow,
        ctx,
        student,
        ChangeKind.transfer_out,
        TRANSFERRED,
        actor,
        reason=why,
        reference=t.number,
    )
    if t.to_school_id is not None and t.to_class_id is not None:
        receiving = await uow.session.get(School, t.to_school_id)
        assert receiving is not None
        await record(
            uow,
            ctx,
            student,
            ChangeKind.transfer_in,
            STUDYING,
            actor,
            school_id=t.to_school_id,
            from_status=TRANSFERRED,
            reason=f"自{sending.name}转入",
            reference=t.number,
        )
        student.county_id = receiving.county_id
        student.school_id = t.to_school_id
        student.class_id = t.to_class_id
        student.status = STUDYING
        student.active = True
    else:
        student.status = TRANSFERRED
        student.active = False
    student.updated_at = now
    uow.session.add(student)
    await uow.flush()
    await status_history.refresh(uow, ctx, [student.id])  # a status ends with the transfer
