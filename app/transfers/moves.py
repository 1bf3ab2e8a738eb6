"""A transfer takes effect on its leaving date (issue 19, item 5).

Decisions:
- approval with a leaving date still ahead (in the sending school's timezone) only approves:
  the student stays on the sending school's roll — the roll is taken there, cases and
  notices go on — and the receiving school sees the transfer as ``incoming``
  (``TransferOut.incoming``); approval on or after the leaving date (or with none) moves the
  student at once, as before;
- the engine's job (every minute, idempotent) moves each approved transfer whose leaving
  date has begun in the sending school's timezone (local midnight): everything an approval
  used to do (``departures.on_transfer_approved``), by the approver, one transfer per
  transaction with the student locked, ``moved_at`` set. Transfers whose date is still ahead
  are filtered out in one read before any lock, so a minute with nothing due locks nobody
  (the lock then re-checks, for a transfer moved or withdrawn meanwhile);
- while a transfer awaits its leaving date no second transfer can be applied for (409).
"""

from __future__ import annotations

from app.context import AppContext
from app.core.records import school_row
from app.core.time import local_today
from app.db.models import Student, Transfer
from app.domain.transfers import TransferStatus
from app.roster.repository import student_for_update
from app.transfers import repository as repo
from app.transfers.departures import on_transfer_approved


async def move_due_transfers(ctx: AppContext) -> int:
    """Move the students whose leaving date has come; returns how many moved."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        waiting: list[int] = []
        for t in await repo.awaiting_move(uow.session, TransferStatus.approved.value):
            sending = await school_row(uow, t.from_school_id)
            if t.id is not None and (t.leave_on is None or t.leave_on <= local_today(sending, now)):
                waiting.append(t.id)
    moved = 0
    for transfer_id in waiting:
        async with ctx.uow() as uow:
            found = await uow.session.get(Transfer, transfer_id)
            assert found is not None
            student = await student_for_update(uow.session, found.student_id)
            await uow.session.refresh(found)
            sending = await school_row(uow, found.from_school_id)
            today = local_today(sending, ctx.clock())
            if found.moved_at is not None or (
                found.leave_on is not None and found.leave_on > today
            ):
                continue
            assert isinstance(student, Student)
            await uow.session.refresh(student)
            await on_transfer_approved(uow, ctx, found, student, found.decided_by or "system")
            found.moved_at = found.updated_at = ctx.clock()
            uow.session.add(found)
            await uow.commit()
            moved += 1
    return moved
