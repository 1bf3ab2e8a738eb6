"""Which roles of a school nobody holds (岗位空缺): the query behind the daily notice."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.labels import class_label
from app.db.models import School, SchoolClass, Staff, StaffRole
from app.domain.roles import Role

SCHOOL_ROLES = (Role.principal, Role.vice_principal, Role.academic_affairs)
# Roles every school must fill: the managers, and the 疫情报告人 GB 28932-2012 requires (issue
# 21; the managers hear of its vacancy, the role itself receives no vacancy notice).
REQUIRED_SCHOOL_ROLES = (*SCHOOL_ROLES, Role.epidemic_reporter)


@dataclass
class SchoolVacancies:
    school_id: int
    county_id: int
    timezone: str
    roles: list[Role] = field(default_factory=list)  # school-level roles nobody holds
    classes: list[str] = field(default_factory=list)  # classes without a head teacher

    @property
    def any(self) -> bool:
        return bool(self.roles or self.classes)


async def vacancies(session: AsyncSession, school_ids: Collection[int]) -> list[SchoolVacancies]:
    if not school_ids:
        return []
    ids = sorted(school_ids)
    schools = await session.exec(select(School).where(col(School.id).in_(ids), col(School.active)))
    out = {
        s.id: SchoolVacancies(s.id, s.county_id, s.timezone) for s in schools if s.id is not None
    }
    held = await session.exec(
        select(StaffRole.role, StaffRole.school_id, StaffRole.class_id)
        .join(Staff, col(Staff.id) == StaffRole.staff_id)
        .where(col(Staff.active))
    )
    school_roles: set[tuple[int, str]] = set()
    headed: set[int] = set()
    for role, school_id, class_id in held:
        if school_id is not None:
            school_roles.add((school_id, role))
        if role == Role.head_teacher.value and class_id is not None:
            headed.add(class_id)
    for sid, v in out.items():
        v.roles = [r for r in REQUIRED_SCHOOL_ROLES if (sid, r.value) not in school_roles]
    classes = await session.exec(
        select(SchoolClass.id, SchoolClass.school_id, class_label())
        .where(col(SchoolClass.school_id).in_(list(out)), col(SchoolClass.active))
        .order_by(col(SchoolClass.id))
    )
    for class_id, school_id, name in classes:
        if class_id not in headed and school_id in out:
            out[school_id].classes.append(name)
    return [out[s] for s in sorted(out)]
