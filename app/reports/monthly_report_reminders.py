"""Reminders of a 月报 not submitted by the county's due day (``monthly_report_day``, 28).

Decisions:
- the engine's periodic job (hourly, idempotent, like the other reminders) looks at the
  current month and the one before it for every active school: once the school's today is
  past the due day and no version of the month is stored, the school's principal, vice
  principal and 教务处 (who submit it) and the county admin (who collects it) get a notice
  (topic ``monthly_report.overdue``, inbox and the school's channels);
- one notice on the first late day, then one every ``REMIND_EVERY_DAYS`` (7) while the month
  is still missing (a month without a school day in the school's calendar, e.g. August, is
  never chased: there is nothing to report); the notice's key names the month and the round,
  so however often the job runs nothing is sent twice; a month more than a month old is no
  longer chased (the county's view, ``GET /counties/{id}/monthly-reports/{month}``, still
  shows it missing and late).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sqlmodel import col, select

from app.alerts import engine_repo as alerts_repo
from app.alerts.county_rules import rules_for
from app.calendar.repository import school_refs
from app.context import AppContext
from app.core.time import local_today
from app.db.models import School
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.reminders import reminder_round
from app.domain.roles import Role
from app.reports import monthly_report_repo as repo

TOPIC = "monthly_report.overdue"
REMIND_EVERY_DAYS = 7
ROLES = (Role.principal, Role.vice_principal, Role.academic_affairs, Role.county_admin)


def _months(today: date) -> list[date]:
    this = today.replace(day=1)
    return [(this - timedelta(days=1)).replace(day=1), this]


async def remind_late_reports(ctx: AppContext, school_ids: Collection[int]) -> int:
    """Write the reminders due now for the schools; returns how many notices were due."""
    now = ctx.clock()
    rows: list[Notice] = []
    async with ctx.uow() as uow:
        s = uow.session
        refs = await school_refs(s, school_ids)
        schools = list(await s.exec(select(School).where(col(School.id).in_(sorted(refs)))))
        for school in schools:
            assert school.id is not None
            ref = refs[school.id]
            today = local_today(school, now)
            day = (await rules_for(s, school.county_id, school.id)).monthly_report_day
            for first in _months(today):
                due = first.replace(day=day)
                last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
                if today <= due or not ref.calendar.school_days_between(first, last):
                    continue
                month = f"{first.year:04d}-{first.month:02d}"
                if await repo.versions(s, school.id, month):
                    continue
                round_ = reminder_round(due, today, REMIND_EVERY_DAYS)
                title = f"{school.name} {month} 月报逾期未报送(截止 {due.isoformat()}),请尽快报送"
                for role in ROLES:
                    for staff_id, _ in await alerts_repo.recipients(
                        s, role, county_id=school.county_id, school_id=school.id, class_id=0
                    ):
                        rows.append(
                            Notice(
                                idem_key=f"monthly:{school.id}:{month}:{round_}:{staff_id}",
                                staff_id=staff_id,
                                role=role,
                                topic=TOPIC,
                                title=title,
                                school_id=school.id,
                                created_at=now,
                            )
                        )
        await outbox.enqueue(s, rows)
        await uow.commit()
    return len(rows)
