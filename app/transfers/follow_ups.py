"""Follow-ups after a return (issue 6, item 4) are the case's follow-up tasks the engine
created when 复学 was confirmed (1, 4 and 8 weeks later; ``GET /cases/{id}/follow-ups``);
a case without them is 409. The engine reminds the head teacher when one falls due and
tells the vice principal when it is still open ``task_overdue_hours`` later.
"""

from __future__ import annotations

from app.alerts import case_repo
from app.alerts.case_service import visible_case
from app.alerts.task_reminders import follow_up_week
from app.db.uow import UnitOfWork
from app.domain.access import Actor
from app.domain.cases import TaskKind
from app.errors import Conflict
from app.transfers.schemas import FollowUpOut

_NO_FOLLOW_UP = "只有确认复学的案例有复学后回访 (only a case whose 复学 was confirmed)"


async def follow_ups(uow: UnitOfWork, actor: Actor, case_id: int) -> list[FollowUpOut]:
    await visible_case(uow, actor, case_id)
    tasks = [t for t in await case_repo.tasks(uow.session, case_id) if t.kind == TaskKind.follow_up]
    if not tasks:
        raise Conflict(_NO_FOLLOW_UP)
    return [
        FollowUpOut(
            task_id=t.id or 0,
            week=follow_up_week(t),
            due_at=t.due_at,
            status=t.status,
            done_at=t.done_at,
            done_by=t.done_by,
            note=t.note,
        )
        for t in sorted(tasks, key=lambda t: (t.due_at, t.id or 0))
    ]
