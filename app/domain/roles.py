"""Staff roles and the scope each one is bound to (三包: school, class, student)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    county_admin = "county_admin"
    principal = "principal"
    vice_principal = "vice_principal"
    academic_affairs = "academic_affairs"
    head_teacher = "head_teacher"
    subject_teacher = "subject_teacher"
    # 乡镇人民政府: receives the return notices reported to its 乡镇 (app/casework/township.py)
    township_officer = "township_officer"
    epidemic_reporter = "epidemic_reporter"  # 疫情报告人 (issue 21: the school doctor or named)
    county_health = "county_health"  # 县卫生健康/疾控联络人 (receives illness reports)


class ScopeType(StrEnum):
    county = "county"
    school = "school"
    class_ = "class"
    township = "township"


ROLE_SCOPE: dict[Role, ScopeType] = {
    Role.county_admin: ScopeType.county,
    Role.principal: ScopeType.school,
    Role.vice_principal: ScopeType.school,
    Role.academic_affairs: ScopeType.school,
    Role.head_teacher: ScopeType.class_,
    Role.subject_teacher: ScopeType.class_,
    Role.township_officer: ScopeType.township,
    Role.epidemic_reporter: ScopeType.school,
    Role.county_health: ScopeType.county,
}

ROLE_LABELS: dict[Role, str] = {
    Role.county_admin: "县教育局管理员",
    Role.principal: "校长",
    Role.vice_principal: "分管副校长",
    Role.academic_affairs: "教务处",
    Role.head_teacher: "班主任",
    Role.subject_teacher: "任课教师",
    Role.township_officer: "乡镇人民政府",
    Role.epidemic_reporter: "疫情报告人",
    Role.county_health: "县卫生健康联络人",
}

# Roles that manage a whole school's roster: classes, students, staff of that school.
SCHOOL_MANAGERS = frozenset({Role.principal, Role.vice_principal, Role.academic_affairs})

# Who stands in when nobody holds a role (岗位空缺): the next level up the school's line of
# responsibility, ending at the county bureau.
NEXT_UP: dict[Role, Role] = {
    Role.subject_teacher: Role.head_teacher,
    Role.head_teacher: Role.vice_principal,
    Role.academic_affairs: Role.vice_principal,
    Role.vice_principal: Role.principal,
    Role.principal: Role.county_admin,
    Role.epidemic_reporter: Role.principal,
}

VACANCY_REASON = "岗位空缺"


def stand_ins(role: Role) -> list[Role]:
    """The roles above ``role``, nearest first: where a notice goes when ``role`` is vacant."""
    chain: list[Role] = []
    up = NEXT_UP.get(role)
    while up is not None and up not in chain:
        chain.append(up)
        up = NEXT_UP.get(up)
    return chain
