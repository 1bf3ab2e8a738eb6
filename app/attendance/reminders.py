"""Reminds head teachers of a roll not taken by its check time plus the grace period (the
compliance query of the intake). One notice per class, date and check, however often it runs:
the notice's key says so."""

from __future__ import annotations

from app.attendance.queries import roll_compliance
from app.context import AppContext
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.access import Actor, ActorKind
from app.domain.roles import Role

_ENGINE = Actor(kind=ActorKind.staff, id=0, name="预警引擎", superuser=True)


async def remind_missing_rolls(ctx: AppContext, school_ids: list[int]) -> int:
    """Write reminders for the given schools; returns how many notices were written."""
    now = ctx.clock()
    rows = []
    async with ctx.uow() as uow:
        for school_id in school_ids:
            report = await roll_compliance(
                uow, ctx, _ENGINE, school_id=school_id, day=None, grace_minutes=None
            )
            for miss in report.missing:
                if miss.head_teacher_id is None:
                    continue
                rows.append(
                    Notice(
                        idem_key=f"roll:{miss.class_id}:{report.day}:{miss.check.value}:"
                        f"{miss.head_teacher_id}",
                        staff_id=miss.head_teacher_id,
                        role=Role.head_teacher,
                        topic="roll.missing",
                        title=f"{miss.class_name} {report.day} {miss.check_label}未点名",
                        school_id=miss.school_id,
                        created_at=now,
                    )
                )
        await outbox.enqueue(uow.session, rows)
        await uow.commit()
    return len(rows)
