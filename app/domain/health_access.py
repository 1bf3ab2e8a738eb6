"""Who sees children's health information (symptoms, diagnoses: 个人信息保护法 第28条, issue 21).

Decisions: the register is listed to whoever reads the class (the roll's readers) and to the
school's 疫情报告人 and the county's health contact; the symptoms, onset, diagnosis and
follow-up in it only to the school's 疫情报告人, its principal, the class's head teacher and
the county's health contact (and the operator). Everyone else — vice principals, 教务处,
subject teachers, county admins, API keys — sees the entry masked. The county admin sees
the figures of the daily summaries (counts), never a child's symptoms.
"""

from __future__ import annotations

from app.domain.access import Actor, ActorKind, can_read_class
from app.domain.roles import Role


def _holds(actor: Actor, role: Role, *, school_id: int | None = None, county_id: int) -> bool:
    return any(
        g.role is role
        and g.county_id == county_id
        and (school_id is None or g.school_id == school_id)
        for g in actor.grants
    )


def is_reporter(actor: Actor, county_id: int, school_id: int) -> bool:
    return _holds(actor, Role.epidemic_reporter, school_id=school_id, county_id=county_id)


def is_health_contact(actor: Actor, county_id: int) -> bool:
    return any(g.role is Role.county_health and g.county_id == county_id for g in actor.grants)


def can_list_illness(actor: Actor, county_id: int, school_id: int, class_id: int) -> bool:
    return (
        can_read_class(actor, school_id, class_id)
        or is_reporter(actor, county_id, school_id)
        or is_health_contact(actor, county_id)
    )


def can_read_school_illness(actor: Actor, county_id: int, school_id: int) -> bool:
    """The school's summaries and clusters (figures, no names of symptoms per child)."""
    return (
        actor.superuser
        or school_id in actor.managed_school_ids
        or is_reporter(actor, county_id, school_id)
        or is_health_contact(actor, county_id)
    )


def can_read_county_illness(actor: Actor, county_id: int) -> bool:
    return actor.superuser or county_id in actor.county_ids or is_health_contact(actor, county_id)


def can_see_health(actor: Actor, county_id: int, school_id: int, class_id: int) -> bool:
    if actor.kind is ActorKind.api_key:
        return False
    return (
        actor.superuser
        or is_reporter(actor, county_id, school_id)
        or _holds(actor, Role.principal, school_id=school_id, county_id=county_id)
        or class_id in actor.head_class_ids
        or is_health_contact(actor, county_id)
    )
