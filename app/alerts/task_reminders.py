"""Reminders for case tasks (电话核实, 联合家访, 复学确认, 复学后回访): when a task falls due
the holders of its role are told once; when it is still open ``task_overdue_hours`` (the
case's policy, 48 by default) later, the level above is told once and the timeline says so.

Up the line: a head teacher's (or subject teacher's) task goes to the case's ``yellow_to``
(the vice principal), anyone else's to ``red_to`` (the principal). The task row remembers
each notice (``reminded_at``, ``escalated_at``) and each notice's key names the task, so a
pass repeated, run by two engines or cut short by a crash sends nothing twice; a task done
or cancelled before its time sends nothing. Tasks of a closed case are left alone, except the
follow-up checks, which only exist on closed cases. Runs every minute with the roll
reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.alerts import engine_repo as repo
from app.alerts import policy as policies
from app.alerts import timeline_repo
from app.alerts.engine import Outbox, notify_role
from app.context import AppContext
from app.db.models import AbsenceCase, CaseTask
from app.db.uow import UnitOfWork
from app.domain.cases import TASK_LABELS, Policy, TaskKind, TimelineKind
from app.domain.roles import Role


@dataclass
class TaskReminders:
    reminded: int = 0
    escalated: int = 0


def follow_up_week(task: CaseTask) -> int:
    """Which week after 复学 a follow-up check falls in (it was created when 复学 was
    confirmed, due 1, 4 or 8 weeks later)."""
    return round((task.due_at - task.created_at) / timedelta(weeks=1))


def task_label(task: CaseTask) -> str:
    label = TASK_LABELS[TaskKind(task.kind)]
    if task.kind == TaskKind.follow_up.value:
        return f"{label}(复学后第 {follow_up_week(task)} 周)"
    return label


def _up_the_line(role: Role, policy: Policy) -> Role:
    if role in (Role.head_teacher, Role.subject_teacher):
        return policy.yellow_to
    return policy.red_to


async def remind_tasks(ctx: AppContext, limit: int = 500) -> TaskReminders:
    """One pass over the tasks due by now (at most ``limit`` of them)."""
    now = ctx.clock()
    done = TaskReminders()
    async with ctx.uow() as uow:
        box = Outbox()
        for task, case in await repo.tasks_to_remind(uow.session, now, limit):
            await _remind(uow, task, case, now, box, done)
        await box.write(uow)
        await uow.commit()
    return done


async def _remind(
    uow: UnitOfWork,
    task: CaseTask,
    case: AbsenceCase,
    now: datetime,
    box: Outbox,
    done: TaskReminders,
) -> None:
    label = task_label(task)
    role = Role(task.role)
    if task.reminded_at is None:
        title = f"{label}已到期,请完成并登记"
        await notify_role(uow, case, role, "task.due", title, f"task:{task.id}:due", now, box)
        task.reminded_at = now
        done.reminded += 1
    policy = policies.from_dict(case.policy)
    if task.escalated_at is None and now >= task.due_at + timedelta(
        hours=policy.task_overdue_hours
    ):
        up = _up_the_line(role, policy)
        title = f"{label}逾期 {policy.task_overdue_hours} 小时仍未完成"
        await notify_role(uow, case, up, "task.overdue", title, f"task:{task.id}:overdue", now, box)
        box.timeline.append(
            timeline_repo.entry(task.case_id, TimelineKind.task_overdue, title, now, None)
        )
        task.escalated_at = now
        done.escalated += 1
    uow.session.add(task)
