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


class ScopeType(StrEnum):
    county = "county"
    school = "school"
    class_ = "class"


ROLE_SCOPE: dict[Role, ScopeType] = {
    Role.county_admin: ScopeType.county,
    Role.principal: ScopeType.school,
    Role.vice_principal: ScopeType.school,
    Role.academic_affairs: ScopeType.school,
    Role.head_teacher: ScopeType.class_,
    Role.subject_teacher: ScopeType.class_,
}

ROLE_LABELS: dict[Role, str] = {
    Role.county_admin: "县教育局管理员",
    Role.principal: "校长",
    Role.vice_principal: "分管副校长",
    Role.academic_affairs: "教务处",
    Role.head_teacher: "班主任",
    Role.subject_teacher: "任课教师",
}

# Roles that manage a whole school's roster: classes, students, staff of that school.
SCHOOL_MANAGERS = frozenset({Role.principal, Role.vice_principal, Role.academic_affairs})
