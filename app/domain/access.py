"""Who may see and change what: object-level rules over an actor's resolved scopes.

An actor is a signed-in staff member or a county system's API key. Its role grants are
resolved once per request into sets of ids (a county admin's county becomes that county's
schools), so every check here is a set lookup. Anything outside an actor's scope is answered
as "not found" by the services: the API never confirms that a hidden object exists.

Decisions (see README, "Access"):
- school managers (principal, vice principal, 教务处) read and manage their whole school;
- head teachers and subject teachers read their classes; head teachers may also edit their
  students' contact details and guardians;
- special-group labels (留守, 残疾, 单亲, 孤儿, 困难) are shown only to the county admin, the
  principal, the vice principal and the student's head teacher (未成年人学校保护规定);
- API keys act for a county or a school: they sync, they do not act (issue 26): read the
  roster, write the roll, students, classes and leave requests; calendars, leave decisions
  and school settings only with an explicit ``KeyScope``; never staff or keys;
- data minimisation (个人信息保护法 第6条): the full 学籍号 (G + the ID number) is shown to
  those who manage 学籍 — the operator, county admins, school managers — and to the
  student's head teacher; subject teachers and API keys see it masked like the ID number,
  unless the key was granted the ``student_no`` scope. Guardians' mobiles are masked for
  subject teachers (the head teacher phones the guardian; an API key syncing the roster
  reads them);
- a superuser (ops) is above the county level and the only one who creates counties;
- staff management cannot be turned against its owners (issue 12): a superuser is changed
  only by a superuser; a manager changes a person only when the manager's scope covers every
  grant that person holds (a teacher who also teaches in another school is that school's
  business too), and only grants strictly below the manager's own rank there (a vice
  principal cannot edit the principal nor another vice principal; a county admin cannot
  edit another county admin — the operator does). ``can_change_person`` is the one check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.roles import SCHOOL_MANAGERS, Role


class ActorKind(StrEnum):
    staff = "staff"
    api_key = "api_key"


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role
    county_id: int
    school_id: int | None = None
    class_id: int | None = None
    # Only for ``township_officer``: the 乡镇 whose reports the grant receives.
    township_id: int | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: int
    name: str
    superuser: bool = False
    grants: tuple[Grant, ...] = ()
    # Resolved scopes: schools of the actor's counties are included in managed_school_ids.
    county_ids: frozenset[int] = field(default_factory=frozenset)
    managed_school_ids: frozenset[int] = field(default_factory=frozenset)
    member_school_ids: frozenset[int] = field(default_factory=frozenset)
    class_ids: frozenset[int] = field(default_factory=frozenset)
    head_class_ids: frozenset[int] = field(default_factory=frozenset)
    sensitive_school_ids: frozenset[int] = field(default_factory=frozenset)
    # Schools whose staff this actor may manage: county admins' schools, principals' and
    # vice principals' own school.
    staff_school_ids: frozenset[int] = field(default_factory=frozenset)
    # 乡镇 whose reported cases this actor receives (township officers): no school or class
    # scope at all, so nothing else of a school is theirs to see.
    township_ids: frozenset[int] = field(default_factory=frozenset)
    # A staff member's current token version (tokens carrying another one are refused);
    # API keys: extra read scopes granted to the key (``student_no``, ``drill``).
    token_version: int = 0
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def tag(self) -> str:
        """``kind:id:name``, cut to the 100 characters of the columns that record who acted."""
        return f"{self.kind.value}:{self.id}:{self.name}"[:100]

    @property
    def manages_people(self) -> bool:
        return self.kind is ActorKind.staff

    def has_role(self, role: Role) -> bool:
        return any(g.role is role for g in self.grants)


def resolve(
    kind: ActorKind,
    actor_id: int,
    name: str,
    grants: tuple[Grant, ...],
    schools_by_county: dict[int, frozenset[int]],
    superuser: bool = False,
    scopes: frozenset[str] = frozenset(),
) -> Actor:
    """Turn role grants into id sets; ``schools_by_county`` lists the schools of each county."""
    counties: set[int] = set()
    managed: set[int] = set()
    member: set[int] = set()
    classes: set[int] = set()
    head: set[int] = set()
    sensitive: set[int] = set()
    staffing: set[int] = set()
    townships: set[int] = set()
    for g in grants:
        if g.role is Role.township_officer:
            if g.township_id is not None:
                townships.add(g.township_id)
        elif g.role is Role.county_admin:
            counties.add(g.county_id)
            schools = schools_by_county.get(g.county_id, frozenset())
            managed |= schools
            sensitive |= schools
            staffing |= schools
        elif g.role in SCHOOL_MANAGERS and g.school_id is not None:
            managed.add(g.school_id)
            if g.role in (Role.principal, Role.vice_principal):
                sensitive.add(g.school_id)
                staffing.add(g.school_id)
        elif g.class_id is not None:
            classes.add(g.class_id)
            if g.role is Role.head_teacher:
                head.add(g.class_id)
        if g.school_id is not None:
            member.add(g.school_id)
    return Actor(
        kind=kind,
        id=actor_id,
        name=name,
        superuser=superuser,
        grants=grants,
        county_ids=frozenset(counties),
        managed_school_ids=frozenset(managed),
        member_school_ids=frozenset(member | managed),
        class_ids=frozenset(classes),
        head_class_ids=frozenset(head),
        sensitive_school_ids=frozenset(sensitive),
        staff_school_ids=frozenset(staffing),
        township_ids=frozenset(townships),
        scopes=scopes,
    )


def can_manage_county(actor: Actor, county_id: int) -> bool:
    return actor.superuser or county_id in actor.county_ids


def can_read_county(actor: Actor, county_id: int) -> bool:
    """Anyone working in a county may read its name and townships."""
    return actor.superuser or any(g.county_id == county_id for g in actor.grants)


def can_read_school(actor: Actor, school_id: int) -> bool:
    return actor.superuser or school_id in actor.member_school_ids


def can_manage_school(actor: Actor, school_id: int) -> bool:
    return actor.superuser or school_id in actor.managed_school_ids


def can_approve_transfer(actor: Actor, from_school_id: int) -> bool:
    """A 转学 is approved by the sending school's vice principal or principal (the paper
    form's 转出学校意见); nobody else, however senior, signs for that school."""
    return actor.superuser or any(
        g.role in (Role.vice_principal, Role.principal) and g.school_id == from_school_id
        for g in actor.grants
    )


def can_read_class(actor: Actor, school_id: int, class_id: int) -> bool:
    return can_manage_school(actor, school_id) or class_id in actor.class_ids


def can_edit_student(actor: Actor, school_id: int, class_id: int) -> bool:
    return can_manage_school(actor, school_id) or class_id in actor.head_class_ids


class KeyScope(StrEnum):
    """What an API key may do beyond syncing. A key reads its scope and writes what county and
    school systems sync — the roll, students, grades and classes, leave *requests* — and acts
    only with a scope granted when the key was made: ``calendar`` (terms, closures and make-up
    days), ``leave_approve`` (approving, rejecting, pre-approved leave, cancelling others'
    leave), ``school_settings`` (the county's record, townships, schools: create, edit,
    deactivate). Read scopes: ``student_no`` (the full 学籍号), ``staff_mobile`` (staff
    mobiles, masked otherwise). ``drill``: the drill clock (county keys)."""

    student_no = "student_no"
    staff_mobile = "staff_mobile"
    calendar = "calendar"
    leave_approve = "leave_approve"
    school_settings = "school_settings"
    drill = "drill"


def key_granted(actor: Actor, scope: KeyScope) -> bool:
    """People are judged by their roles alone; an API key also needs ``scope``."""
    return actor.kind is not ActorKind.api_key or scope.value in actor.scopes


def can_see_staff_mobile(actor: Actor) -> bool:
    """Staff mobiles are for people who work with the staff; a key syncing the roster reads
    them masked unless granted ``staff_mobile``."""
    return key_granted(actor, KeyScope.staff_mobile)


def can_see_special_groups(actor: Actor, school_id: int, class_id: int) -> bool:
    if actor.kind is ActorKind.api_key:
        return False
    return (
        actor.superuser
        or school_id in actor.sensitive_school_ids
        or class_id in actor.head_class_ids
    )


def can_see_student_no(actor: Actor, school_id: int, class_id: int) -> bool:
    if actor.kind is ActorKind.api_key:
        return "student_no" in actor.scopes
    return can_manage_school(actor, school_id) or class_id in actor.head_class_ids


def may_search_student_no(actor: Actor) -> bool:
    """Looking students up by full 学籍号 would let those who see it masked confirm guesses
    (the masked middle is the birth date, shown anyway, and a 3-digit sequence)."""
    if actor.kind is ActorKind.api_key:
        return "student_no" in actor.scopes
    return actor.superuser or bool(actor.managed_school_ids or actor.head_class_ids)


def can_see_guardian_mobiles(actor: Actor, school_id: int, class_id: int) -> bool:
    if actor.kind is ActorKind.api_key:
        return True
    return can_manage_school(actor, school_id) or class_id in actor.head_class_ids


def can_manage_staff(actor: Actor, school_id: int | None, county_id: int) -> bool:
    if not actor.manages_people:
        return False
    if school_id is None:
        return can_manage_county(actor, county_id)
    return actor.superuser or school_id in actor.staff_school_ids


def can_grant(actor: Actor, grant: Grant) -> bool:
    """County roles are granted at county level; school and class roles by their school's
    principal or vice principal."""
    if not actor.manages_people:
        return False
    if grant.role in (Role.county_admin, Role.township_officer):
        return can_manage_county(actor, grant.county_id)
    return can_manage_staff(actor, grant.school_id, grant.county_id)


# Rank of a role where it applies: a manager may change only grants ranked strictly below the
# rank the manager holds over that grant's scope.
ROLE_RANK: dict[Role, int] = {
    Role.county_admin: 40,
    Role.principal: 30,
    Role.vice_principal: 20,
    Role.academic_affairs: 10,
    Role.head_teacher: 5,
    Role.subject_teacher: 5,
    Role.township_officer: 5,
    Role.epidemic_reporter: 5,
    Role.county_health: 15,
}
_SUPERUSER_RANK = 1000


def rank_over(actor: Actor, grant: Grant) -> int:
    """The highest rank the actor holds over the grant's scope (0: none)."""
    if actor.superuser:
        return _SUPERUSER_RANK
    best = 0
    for g in actor.grants:
        if g.role is Role.county_admin:
            covers = g.county_id == grant.county_id
        elif g.role in (Role.principal, Role.vice_principal):
            covers = grant.school_id is not None and g.school_id == grant.school_id
        else:
            covers = False  # 教务处 and teachers do not manage staff
        if covers:
            best = max(best, ROLE_RANK[g.role])
    return best


def can_change_grant(actor: Actor, grant: Grant) -> bool:
    """Give or take this grant: within the actor's staff scope and strictly below its rank."""
    return can_grant(actor, grant) and rank_over(actor, grant) > ROLE_RANK[grant.role]


def can_change_person(
    actor: Actor,
    *,
    superuser: bool,
    school_id: int | None,
    county_id: int,
    grants: tuple[Grant, ...],
) -> bool:
    """May the actor edit, reset the password of, deactivate or regrant this person?"""
    if not actor.manages_people:
        return False
    if actor.superuser:
        return True
    if superuser:
        return False
    if not can_manage_staff(actor, school_id, county_id):
        return False
    return all(can_change_grant(actor, g) for g in grants)


@dataclass(frozen=True, slots=True)
class Person:
    """A staff member as the staff rules see them: who, where, and every grant they hold."""

    id: int
    superuser: bool
    school_id: int | None
    county_id: int
    grants: tuple[Grant, ...]


class Refusal(StrEnum):
    """Why a change to staff is refused: ``outside`` the actor's staff (or no staff rights),
    ``not_over`` (the person or the grant is not strictly below the actor), ``self_grant``."""

    outside = "outside"
    not_over = "not_over"
    self_grant = "self_grant"


def person_refusal(actor: Actor, person: Person, *, granting: bool = False) -> Refusal | None:
    """May the actor change this person (``can_change_person``)? When ``granting``, nobody
    gives or takes a role of their own, not even the operator (another operator does)."""
    if granting and actor.kind is ActorKind.staff and actor.id == person.id:
        return Refusal.self_grant
    if not can_manage_staff(actor, person.school_id, person.county_id):
        return Refusal.outside
    allowed = can_change_person(
        actor,
        superuser=person.superuser,
        school_id=person.school_id,
        county_id=person.county_id,
        grants=person.grants,
    )
    return None if allowed else Refusal.not_over


def grant_refusal(actor: Actor, grant: Grant, person: Person | None) -> Refusal | None:
    """The one rule for giving a role, whatever the path (the staff API, the staff import,
    onboarding, the CLI): the person (``None``: someone new) must be the actor's to change
    and not the actor, and the grant within the actor's staff scope and strictly below the
    actor's rank there."""
    if person is not None:
        refusal = person_refusal(actor, person, granting=True)
        if refusal is not None:
            return refusal
    if not can_grant(actor, grant):
        return Refusal.outside
    if not can_change_grant(actor, grant):
        return Refusal.not_over
    return None


@dataclass(frozen=True, slots=True)
class Visibility:
    """A filter for list queries: everything, or rows whose school or class is listed."""

    everything: bool
    school_ids: frozenset[int]
    class_ids: frozenset[int]


def student_visibility(actor: Actor) -> Visibility:
    return Visibility(actor.superuser, actor.managed_school_ids, actor.class_ids)


def school_visibility(actor: Actor) -> Visibility:
    return Visibility(actor.superuser, actor.member_school_ids, frozenset())


def can_act_for_township(actor: Actor, township_id: int) -> bool:
    """The township's own officers receive, acknowledge and act on its reports."""
    return actor.kind is ActorKind.staff and township_id in actor.township_ids


def can_read_township_reports(
    actor: Actor, county_id: int, township_id: int, school_id: int
) -> bool:
    """A report to a township: its officers, the county's admins and the school's managers."""
    return (
        can_act_for_township(actor, township_id)
        or can_manage_county(actor, county_id)
        or can_manage_school(actor, school_id)
    )


def can_manage_integration(actor: Actor, county_id: int, school_id: int | None) -> bool:
    """API keys and webhook subscriptions: their county's admins, or their school's principal
    and vice principal; never another key."""
    return actor.manages_people and (
        actor.superuser
        or county_id in actor.county_ids
        or (school_id is not None and school_id in actor.staff_school_ids)
    )
