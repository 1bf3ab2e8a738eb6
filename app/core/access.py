"""Scope checks more than one feature makes before it acts."""

from __future__ import annotations

from app.db.models import County
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor, ActorKind
from app.errors import Forbidden, NotFound

_READ_ONLY_KEY = "API 密钥只能查询,不能办理 (API keys read but do not act)"
_NOT_COUNTY = "县级台账与指标仅限县教育局 (county admins only)"


def require_key_scope(actor: Actor, scope: access.KeyScope) -> None:
    """An API key acts beyond syncing only with the scope granted for it (403 otherwise)."""
    if not access.key_granted(actor, scope):
        raise Forbidden(
            f"API 密钥未获授权“{scope.value}”,只能同步数据 "
            f"(this API key syncs data; acting here needs the `{scope.value}` scope)"
        )


def require_person(actor: Actor) -> None:
    """Casework is done by people: an API key reads but never acts."""
    if actor.kind is not ActorKind.staff:
        raise Forbidden(_READ_ONLY_KEY)


async def admin_county(uow: UnitOfWork, actor: Actor, county_id: int) -> County:
    """The county, for its county admin (or the operator): county-wide ledgers and rates.
    Outside the actor's reading scope it is "not found"; read-only there, 403."""
    county = await uow.session.get(County, county_id)
    if county is None or not access.can_read_county(actor, county_id):
        raise NotFound("县", county_id)
    if not access.can_manage_county(actor, county_id):
        raise Forbidden(_NOT_COUNTY)
    return county
