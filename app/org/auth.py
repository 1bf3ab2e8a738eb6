"""Sign-in, and turning a token or API key into an ``Actor`` with resolved scopes.

Tokens live on the real clock (``wall_clock``): the simulation clock may be days ahead or
behind, and must neither expire nor revive a token. Each token carries the staff member's
``token_version``; a password change or deactivation increments it, so older tokens are
refused on the next request. The check is one integer comparison against the cached actor
(``KCBX_ACTOR_CACHE_SECONDS``): this process forgets the actor at the commit that changed
it, other processes within the cache's time-to-live (10 s by default).
"""

from __future__ import annotations

import hmac
from dataclasses import replace

from anyio import to_thread

from app.context import AppContext
from app.db.models import ApiKey, Staff, StaffRole
from app.db.uow import UnitOfWork
from app.domain.access import Actor, ActorKind, Grant, resolve
from app.domain.roles import Role
from app.errors import Unauthorized
from app.org import repository as org_repo
from app.org import staff_repo, throttle
from app.org.staff import get_staff
from app.org.staff_schemas import MeApiKey, MeStaff, TokenOut
from app.security.crypto import api_key_prefix, hash_api_key
from app.security.passwords import verify_password
from app.security.tokens import issue_token, read_token

_BAD_LOGIN = "手机号或密码错误 (wrong mobile or password)"


async def login(
    uow: UnitOfWork, ctx: AppContext, mobile: str, password: str, client: str
) -> TokenOut:
    # What is counted and stored is printable and bounded (a NUL byte would break PostgreSQL);
    # only a plausible mobile is looked up, anything else cannot be an account.
    account = "".join(ch for ch in mobile.strip() if ch.isprintable())[:64]
    client = "".join(ch for ch in client if ch.isprintable())[:45]
    now = ctx.wall_clock()
    earlier = await throttle.check(uow, ctx.settings, account=account, now=now)
    plausible = account == mobile.strip() and account.isascii() and account.isdigit()
    staff = (
        await staff_repo.staff_by_mobile(uow.session, account)
        if plausible and len(account) <= 20
        else None
    )
    # Argon2 takes tens of milliseconds of CPU: in a worker thread, the loop keeps serving.
    ok = await to_thread.run_sync(verify_password, password, staff.password_hash if staff else None)
    if staff is None or not ok or not staff.active or staff.id is None:
        await throttle.failed(uow, ctx.settings, account=account, client=client, now=now)
        await throttle.refuse_address(uow, ctx.settings, account=account, client=client, now=now)
        raise Unauthorized(_BAD_LOGIN)
    if earlier:
        await throttle.succeeded(uow, account=account)
    return token_for(ctx, staff.id, staff.token_version)


def token_for(ctx: AppContext, staff_id: int, version: int) -> TokenOut:
    """A staff member's access token (also for the WeChat sign-in, app.guardians.accounts)."""
    minutes = ctx.settings.access_token_minutes
    token = issue_token(
        staff_id,
        secret=ctx.settings.secret_key,
        issuer=ctx.settings.jwt_issuer,
        now=ctx.wall_clock(),
        minutes=minutes,
        version=version,
    )
    return TokenOut(access_token=token, expires_in=minutes * 60)


def _grant(row: StaffRole) -> Grant:
    return Grant(Role(row.role), row.county_id, row.school_id, row.class_id, row.township_id)


async def actor_for_staff(uow: UnitOfWork, staff: Staff) -> Actor:
    assert staff.id is not None
    rows = (await staff_repo.grants_of(uow.session, [staff.id]))[staff.id]
    grants = tuple(_grant(r) for r in rows)
    counties = {g.county_id for g in grants if g.role is Role.county_admin}
    by_county = await org_repo.schools_by_county(uow.session, counties)
    actor = resolve(ActorKind.staff, staff.id, staff.name, grants, by_county, staff.is_superuser)
    return replace(actor, token_version=staff.token_version)


async def actor_from_token(uow: UnitOfWork, ctx: AppContext, token: str) -> Actor:
    staff_id, version = read_token(
        token, secret=ctx.settings.secret_key, issuer=ctx.settings.jwt_issuer, now=ctx.wall_clock()
    )
    cache_key = ("staff", str(staff_id))
    actor = ctx.cache.actors.get(cache_key)
    if actor is None:
        staff = await uow.session.get(Staff, staff_id)
        if staff is None or not staff.active:
            raise Unauthorized("账号已停用 (account deactivated)")
        actor = await actor_for_staff(uow, staff)
        ctx.cache.actors.put(cache_key, actor)
    if actor.token_version != version:
        raise Unauthorized("密码已修改或账号已停用,请重新登录 (token revoked: sign in again)")
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
    actor = resolve(ActorKind.api_key, row.id, row.name, (grant,), by_county)
    return replace(actor, scopes=frozenset(row.scopes.split()))


async def whoami(uow: UnitOfWork, actor: Actor) -> MeStaff | MeApiKey:
    """A person gets their staff record; an API key gets its own identity, never the staff
    member who happens to share its id."""
    if actor.kind is ActorKind.api_key:
        row = await uow.session.get(ApiKey, actor.id)
        if row is None:
            raise Unauthorized("API 密钥无效或已吊销 (invalid or revoked API key)")
        return MeApiKey.model_validate(row, from_attributes=True)
    staff = await get_staff(uow, actor, actor.id)
    return MeStaff.model_validate(staff.model_dump())
