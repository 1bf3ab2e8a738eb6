"""Sign-in, and turning a token or API key into an ``Actor`` with resolved scopes."""

from __future__ import annotations

import hmac

from app.context import AppContext
from app.db.models import ApiKey, Staff, StaffRole
from app.db.uow import UnitOfWork
from app.domain.access import Actor, ActorKind, Grant, resolve
from app.domain.roles import Role
from app.errors import Unauthorized
from app.repositories import org as org_repo
from app.repositories import staff as staff_repo
from app.schemas.staff import TokenOut
from app.security.crypto import api_key_prefix, hash_api_key
from app.security.passwords import verify_password
from app.security.tokens import issue_token, read_token

_BAD_LOGIN = "手机号或密码错误 (wrong mobile or password)"


async def login(uow: UnitOfWork, ctx: AppContext, mobile: str, password: str) -> TokenOut:
    staff = await staff_repo.staff_by_mobile(uow.session, mobile.strip())
    ok = verify_password(password, staff.password_hash if staff else None)
    if staff is None or not ok or not staff.active or staff.id is None:
        raise Unauthorized(_BAD_LOGIN)
    minutes = ctx.settings.access_token_minutes
    token = issue_token(
        staff.id,
        secret=ctx.settings.secret_key,
        issuer=ctx.settings.jwt_issuer,
        now=ctx.wall_clock(),
        minutes=minutes,
    )
    return TokenOut(access_token=token, expires_in=minutes * 60)


def _grant(row: StaffRole) -> Grant:
    return Grant(Role(row.role), row.county_id, row.school_id, row.class_id)


async def actor_for_staff(uow: UnitOfWork, staff: Staff) -> Actor:
    assert staff.id is not None
    rows = (await staff_repo.grants_of(uow.session, [staff.id]))[staff.id]
    grants = tuple(_grant(r) for r in rows)
    counties = {g.county_id for g in grants if g.role is Role.county_admin}
    by_county = await org_repo.schools_by_county(uow.session, counties)
    return resolve(ActorKind.staff, staff.id, staff.name, grants, by_county, staff.is_superuser)


async def actor_from_token(uow: UnitOfWork, ctx: AppContext, token: str) -> Actor:
    staff_id = read_token(
        token, secret=ctx.settings.secret_key, issuer=ctx.settings.jwt_issuer, now=ctx.wall_clock()
    )
    cache_key = ("staff", str(staff_id))
    cached = ctx.cache.actors.get(cache_key)
    if cached is not None:
        return cached
    staff = await uow.session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise Unauthorized("账号已停用 (account deactivated)")
    actor = await actor_for_staff(uow, staff)
    ctx.cache.actors.put(cache_key, actor)
    return actor


async def actor_from_api_key(uow: UnitOfWork, ctx: AppContext, key: str) -> Actor:
    cache_key = ("api_key", hash_api_key(key))
    cached = ctx.cache.actors.get(cache_key)
    if cached is not None:
        return cached
    actor = await _load_api_key_actor(uow, key)
    ctx.cache.actors.put(cache_key, actor)
    return actor


async def _load_api_key_actor(uow: UnitOfWork, key: str) -> Actor:
    """An API key acts like a county admin (or a school manager) without people management."""
    prefix = api_key_prefix(key)
    row: ApiKey | None = None
    if prefix is not None:
        row = await staff_repo.api_key_by_prefix(uow.session, prefix)
    if row is None or row.revoked_at is not None or row.id is None:
        raise Unauthorized("API 密钥无效或已吊销 (invalid or revoked API key)")
    if not hmac.compare_digest(row.key_hash, hash_api_key(key)):
        raise Unauthorized("API 密钥无效或已吊销 (invalid or revoked API key)")
    if row.school_id is None:
        grant = Grant(Role.county_admin, row.county_id)
    else:
        grant = Grant(Role.principal, row.county_id, row.school_id)
    by_county = await org_repo.schools_by_county(uow.session, {row.county_id})
    scopes = frozenset(row.scopes or ())
    return resolve(ActorKind.api_key, row.id, row.name, (grant,), by_county, scopes=scopes)
