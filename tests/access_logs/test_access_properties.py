"""Properties of ``can_change_person`` over random role holders (issue 12, item 1): whoever is
allowed to change a person outranks every grant the person holds, in that grant's own scope;
no one but an operator changes an operator; no one changes a peer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.access import (
    ROLE_RANK,
    Actor,
    ActorKind,
    Grant,
    can_change_person,
    rank_over,
    resolve,
)
from app.domain.roles import ROLE_SCOPE, Role, ScopeType

# Two counties; schools 1-2 in county 1, 3 in county 2; class c belongs to school (c + 1) // 2.
SCHOOLS = {1: 1, 2: 1, 3: 2}
CLASSES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3}
BY_COUNTY = {1: frozenset({1, 2}), 2: frozenset({3})}


@st.composite
def grants(draw: st.DrawFn) -> Grant:
    role = draw(st.sampled_from(list(Role)))
    scope = ROLE_SCOPE[role]
    if scope is ScopeType.county:
        return Grant(role, draw(st.sampled_from([1, 2])))
    if scope is ScopeType.township:  # 乡镇 10 in county 1, 20 in county 2
        county = draw(st.sampled_from([1, 2]))
        return Grant(role, county, township_id=county * 10)
    if scope is ScopeType.school:
        school = draw(st.sampled_from(list(SCHOOLS)))
        return Grant(role, SCHOOLS[school], school)
    klass = draw(st.sampled_from(list(CLASSES)))
    school = CLASSES[klass]
    return Grant(role, SCHOOLS[school], school, klass)


def actor_of(held: list[Grant], superuser: bool = False) -> Actor:
    return resolve(ActorKind.staff, 1, "x", tuple(held), BY_COUNTY, superuser)


people = st.lists(grants(), max_size=4)


def _oracle(
    mine: list[Grant], superuser: bool, home: int | None, county: int, theirs: list[Grant]
) -> bool:
    """The rule as the issue states it, written independently of the implementation."""

    def covers(m: Grant, g_county: int, g_school: int | None) -> bool:
        if m.role is Role.county_admin:
            return m.county_id == g_county
        return m.role in (Role.principal, Role.vice_principal) and (
            g_school is not None and m.school_id == g_school
        )

    if superuser:
        return False
    if not any(covers(m, county, home) for m in mine):
        return False  # the person's home is outside the actor's staff scope
    return all(
        any(
            covers(m, g.county_id, g.school_id) and ROLE_RANK[m.role] > ROLE_RANK[g.role]
            for m in mine
        )
        for g in theirs
    )


@settings(max_examples=500, deadline=None)
@given(people, people, st.booleans(), st.sampled_from([None, 1, 2, 3]))
def test_who_may_change_whom_follows_the_rule(
    mine: list[Grant], theirs: list[Grant], target_superuser: bool, home: int | None
) -> None:
    actor = actor_of(mine)
    county = SCHOOLS[home] if home is not None else (theirs[0].county_id if theirs else 1)
    allowed = can_change_person(
        actor, superuser=target_superuser, school_id=home, county_id=county, grants=tuple(theirs)
    )
    assert allowed == _oracle(mine, target_superuser, home, county, theirs)
    if allowed:
        assert all(rank_over(actor, g) > ROLE_RANK[g.role] for g in theirs)


@settings(max_examples=200, deadline=None)
@given(people, people)
def test_the_operator_changes_anyone_and_api_keys_no_one(
    mine: list[Grant], theirs: list[Grant]
) -> None:
    operator = actor_of(mine, superuser=True)
    key = resolve(ActorKind.api_key, 1, "k", tuple(mine), BY_COUNTY)
    for superuser in (True, False):
        kwargs = {"superuser": superuser, "school_id": None, "county_id": 1}
        assert can_change_person(operator, grants=tuple(theirs), **kwargs)  # type: ignore[arg-type]
        assert not can_change_person(key, grants=tuple(theirs), **kwargs)  # type: ignore[arg-type]
