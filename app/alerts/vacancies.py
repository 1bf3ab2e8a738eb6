"""The daily 岗位空缺 notice: a school's managers are told once a day which roles nobody holds
(classes without a head teacher, no principal, vice principal or 教务处), because until
someone is appointed their alerts go one level up.

Who is told: the school's principal, vice principal and 教务处 that exist; a school with none
of them tells the county administrators. Once per school and local school day: the notice's
key carries the date, so running this every minute writes it once. It is written from
``NOTICE_HOUR`` local time on, not at midnight.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.alerts import engine_repo as alerts_repo
from app.alerts.vacancies_repo import SCHOOL_ROLES, SchoolVacancies, vacancies
from app.context import AppContext
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain.roles import ROLE_LABELS, Role

NOTICE_HOUR = 7
TOPIC = "roles.vacant"
_CLASSES_SHOWN = 10


def vacancy_title(v: SchoolVacancies) -> str:
    parts = [ROLE_LABELS[r] for r in v.roles]
    if v.classes:
        shown = "、".join(v.classes[:_CLASSES_SHOWN])
        more = f"等 {len(v.classes)} 个班" if len(v.classes) > _CLASSES_SHOWN else ""
        parts.append(f"{shown}{more}无班主任")
    return ("岗位空缺:" + ";".join(parts))[:200]


async def remind_vacant_roles(ctx: AppContext, school_ids: list[int]) -> int:
    """Write today's notices for the given schools; returns how many were due (a notice
    already written today is kept, not written again)."""
    now = ctx.clock()
    rows = []
    async with ctx.uow() as uow:
        found = await vacancies(uow.session, school_ids)
        for v in found:
            local = now.astimezone(ZoneInfo(v.timezone))
            if not v.any or local.hour < NOTICE_HOUR:
                continue
            people: list[tuple[int, Role]] = []
            for role in SCHOOL_ROLES:
                for staff_id, _ in await alerts_repo.recipients(
                    uow.session, role, county_id=v.county_id, school_id=v.school_id, class_id=0
                ):
                    people.append((staff_id, role))
            if not people:
                people = [
                    (staff_id, Role.county_admin)
                    for staff_id, _ in await alerts_repo.recipients(
                        uow.session,
                        Role.county_admin,
                        county_id=v.county_id,
                        school_id=v.school_id,
                        class_id=0,
                    )
                ]
            title = vacancy_title(v)
            seen: set[int] = set()
            for staff_id, role in people:
                if staff_id in seen:
                    continue
                seen.add(staff_id)
                rows.append(_row(v, staff_id, role, title, local, now))
        await outbox.enqueue(uow.session, rows)
        await uow.commit()
    return len(rows)


def _row(
    v: SchoolVacancies, staff_id: int, role: Role, title: str, local: datetime, now: datetime
) -> Notice:
    return Notice(
        idem_key=f"vacancy:{v.school_id}:{local.date().isoformat()}:{staff_id}",
        staff_id=staff_id,
        role=role,
        topic=TOPIC,
        title=title,
        school_id=v.school_id,
        created_at=now,
    )
