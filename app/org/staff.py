"""Staff and their role grants; API keys for county systems.

Rules kept here: a grant's scope matches its role (county, school or class); a class has one
head teacher and a school one principal (also enforced by unique indexes); a school keeps at
least one vice principal in charge of 控辍保学 once it has one, so the last one cannot be
removed or deactivated without a successor; changing a person (profile, password,
deactivation, roles) passes ``access.can_change_person`` — never an operator unless one is
one, only people all of whose grants the manager covers, only ranks below the manager's
(403 when the person is visible, 404 otherwise); giving or taking a role passes
``access.grant_refusal`` (the person's and the grant's checks, and never one's own roles),
which the staff import applies too (``REFUSALS`` are its row messages); a password change or
deactivation revokes the person's tokens.
"""

from __future__ import annotations

from datetime import datetime

from anyio import to_thread

from app.context import wall_clock
from app.core.records import get_or_404
from app.core.types import Page
from app.db.models import ApiKey, County, School, Staff, StaffRole, Township
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor, Grant
from app.domain.idcard import mask_mobile
from app.domain.roles import ROLE_SCOPE, Role, ScopeType
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.org import staff_repo as repo
from app.org import throttle
from app.org.service import class_for, school_for
from app.org.staff_schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    GrantIn,
    GrantOut,
    StaffIn,
    StaffOut,
    StaffUpdate,
)
from app.security.crypto import new_api_key
from app.security.passwords import hash_password, verify_password
from app.settings import Settings

_NO_STAFF_RIGHTS = (
    "需要校长、分管副校长或县教育局管理员权限 (principal, vice principal or county admin)"
)
_ONE_PER_SCOPE = {
    Role.head_teacher: "该班已有班主任,请先撤销 (the class already has a head teacher)",
    Role.principal: "该校已有校长,请先撤销 (the school already has a principal)",
}
_NOT_OVER = (
    "无权修改该教职工:其角色不全在您的管理范围内,或不低于您的级别 "
    "(this person holds a role outside your scope, or at or above your own level)"
)
_CURRENT_PASSWORD = "修改本人密码须提供当前密码 (current_password is required)"
_WRONG_CURRENT = "当前密码错误 (current password is wrong)"
_LAST_VP = "学校须至少保留一名分管控辍保学的副校长 (a school keeps at least one vice principal)"


def _grant_out(row: StaffRole) -> GrantOut:
    return GrantOut.model_validate(row, from_attributes=True)


def _staff_out(staff: Staff, grants: list[StaffRole], actor: Actor | None = None) -> StaffOut:
    """``actor``: the reader; a key without ``staff_mobile`` reads mobiles masked."""
    out = StaffOut.model_validate(staff)
    out.roles = [_grant_out(g) for g in grants]
    if actor is not None and not access.can_see_staff_mobile(actor):
        out.mobile = mask_mobile(out.mobile)
    return out


async def hash_off_loop(password: str) -> str:
    """Argon2 is slow on purpose (tens of ms): never on the event loop."""
    return await to_thread.run_sync(hash_password, password)


def _as_grant(row: StaffRole) -> Grant:
    return Grant(Role(row.role), row.county_id, row.school_id, row.class_id, row.township_id)


REFUSALS: dict[access.Refusal, str] = {
    access.Refusal.outside: _NO_STAFF_RIGHTS,
    access.Refusal.not_over: _NOT_OVER,
    access.Refusal.self_grant: "不能给自己授予或撤销角色 (nobody changes their own roles)",
}


def refuse(refusal: access.Refusal | None) -> None:
    """403 (the person is visible) with the refusal's reason; nothing when allowed."""
    if refusal is not None:
        raise Forbidden(REFUSALS[refusal])


def as_person(staff: Staff, rows: list[StaffRole]) -> access.Person:
    assert staff.id is not None
    return access.Person(
        staff.id,
        staff.is_superuser,
        staff.school_id,
        staff.county_id,
        tuple(_as_grant(r) for r in rows),
    )


async def _ensure_may_change(
    uow: UnitOfWork, actor: Actor, staff: Staff, *, granting: bool = False
) -> list[StaffRole]:
    """Refuse (403: the person is visible) unless the actor may change this person; returns
    the person's grants."""
    assert staff.id is not None
    rows = (await repo.grants_of(uow.session, [staff.id]))[staff.id]
    refuse(access.person_refusal(actor, as_person(staff, rows), granting=granting))
    return rows


def revoke_tokens(staff: Staff) -> None:
    """Every token issued before now stops working (the ``ver`` claim no longer matches)."""
    staff.token_version = (staff.token_version or 0) + 1


async def _staff(uow: UnitOfWork, actor: Actor, staff_id: int) -> Staff:
    staff = await uow.session.get(Staff, staff_id)
    visible = staff is not None and (
        actor.superuser
        or (staff.id == actor.id and actor.kind is access.ActorKind.staff)
        or (staff.school_id is not None and access.can_read_school(actor, staff.school_id))
        or (staff.school_id is None and staff.county_id in actor.county_ids)
    )
    if staff is None or not visible:
        raise NotFound("教职工", staff_id)
    return staff


async def changeable_staff(uow: UnitOfWork, actor: Actor, staff_id: int) -> Staff:
    """A person the actor may change (404 if not visible, 403 if visible only): for the
    features outside this module that administer staff (the staff mini-program binding)."""
    staff = await _staff(uow, actor, staff_id)
    await _ensure_may_change(uow, actor, staff)
    return staff


async def _resolve_grant(
    uow: UnitOfWork,
    actor: Actor,
    data: GrantIn,
    loc: tuple[str | int, ...],
    person: access.Person | None,
) -> StaffRole:
    """Fill a grant's county and school from its scope, and check the caller may give it to
    the person (``None``: someone new)."""
    scope = ROLE_SCOPE[data.role]
    county_id: int
    school_id: int | None = None
    class_id: int | None = None
    township_id: int | None = None
    if scope is ScopeType.township:
        if data.township_id is None:
            raise Invalid.field(
                (*loc, "township_id"), "乡镇角色须指定 township_id (township_id required)"
            )
        township = await uow.session.get(Township, data.township_id)
        if township is None or not access.can_read_county(actor, township.county_id):
            raise NotFound("乡镇", data.township_id)
        county_id, township_id = township.county_id, data.township_id
        key = f"township:{township_id}"
    elif scope is ScopeType.county:
        if data.county_id is None:
            raise Invalid.field(
                (*loc, "county_id"), "县级角色须指定 county_id (county_id required)"
            )
        county = await uow.session.get(County, data.county_id)
        if county is None or not access.can_read_county(actor, data.county_id):
            raise NotFound("县", data.county_id)
        county_id = data.county_id
        key = f"county:{county_id}"
    elif scope is ScopeType.school:
        if data.school_id is None:
            raise Invalid.field(
                (*loc, "school_id"), "校级角色须指定 school_id (school_id required)"
            )
        school = await school_for(uow, actor, data.school_id)
        county_id, school_id = school.county_id, school.id
        key = f"school:{school_id}"
    else:
        if data.class_id is None:
            raise Invalid.field((*loc, "class_id"), "班级角色须指定 class_id (class_id required)")
        klass = await class_for(uow, actor, data.class_id)
        owner = await get_or_404(uow, School, klass.school_id, "学校")
        county_id, school_id, class_id = owner.county_id, klass.school_id, klass.id
        key = f"class:{class_id}"
    grant = Grant(data.role, county_id, school_id, class_id, township_id)
    refuse(access.grant_refusal(actor, grant, person))
    if data.role in _ONE_PER_SCOPE:
        holder = await repo.unique_role_holder(
            uow.session, data.role.value, school_id=school_id, class_id=class_id
        )
        if holder is not None:
            raise Conflict(_ONE_PER_SCOPE[data.role])
    return StaffRole(
        staff_id=0,
        role=data.role.value,
        scope_key=key,
        county_id=county_id,
        school_id=school_id,
        class_id=class_id,
        township_id=township_id,
    )


async def create_staff(uow: UnitOfWork, actor: Actor, data: StaffIn) -> StaffOut:
    if data.school_id is not None:
        school = await school_for(uow, actor, data.school_id)
        county_id = school.county_id
    elif data.county_id is not None:
        county = await uow.session.get(County, data.county_id)
        if county is None or not access.can_read_county(actor, data.county_id):
            raise NotFound("县", data.county_id)
        county_id = data.county_id
    else:
        raise Invalid.field(("body", "school_id"), "须指定 school_id 或 county_id")
    if not access.can_manage_staff(actor, data.school_id, county_id):
        raise Forbidden(_NO_STAFF_RIGHTS)
    if await repo.staff_by_mobile(uow.session, data.mobile):
        raise Conflict("手机号已被其他教职工使用 (mobile already used by another staff member)")
    grants = [
        await _resolve_grant(uow, actor, g, ("body", "roles", i), None)
        for i, g in enumerate(data.roles)
    ]
    staff = Staff(
        county_id=county_id,
        school_id=data.school_id,
        name=data.name,
        mobile=data.mobile,
        password_hash=await hash_off_loop(data.password) if data.password else None,
    )
    uow.session.add(staff)
    await uow.flush()
    for g in grants:
        g.staff_id = staff.id or 0
    uow.session.add_all(grants)
    await uow.commit()
    return _staff_out(staff, grants)


async def get_staff(uow: UnitOfWork, actor: Actor, staff_id: int) -> StaffOut:
    staff = await _staff(uow, actor, staff_id)
    grants = await repo.grants_of(uow.session, [staff_id])
    return _staff_out(staff, grants[staff_id], actor)


async def list_staff(
    uow: UnitOfWork,
    actor: Actor,
    *,
    school_id: int | None,
    role: Role | None,
    class_id: int | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> Page[StaffOut]:
    rows, total = await repo.list_staff(
        uow.session,
        access.school_visibility(actor),
        county_ids=actor.county_ids,
        school_id=school_id,
        role=role.value if role else None,
        class_id=class_id,
        include_inactive=include_inactive,
        limit=limit,
        offset=offset,
    )
    grants = await repo.grants_of(uow.session, [s.id for s in rows if s.id is not None])
    items = [_staff_out(s, grants[s.id or 0], actor) for s in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def update_staff(
    uow: UnitOfWork, settings: Settings, actor: Actor, staff_id: int, data: StaffUpdate
) -> StaffOut:
    """One's own profile, or a person the actor may change (``can_change_person``). Changing
    one's own password needs the current one; any password change revokes the person's
    tokens (the caller signs in again)."""
    staff = await _staff(uow, actor, staff_id)
    is_self = actor.kind is access.ActorKind.staff and actor.id == staff_id
    if not is_self:
        await _ensure_may_change(uow, actor, staff)
    elif data.password is not None:
        if not data.current_password:
            raise Invalid.field(("body", "current_password"), _CURRENT_PASSWORD)
        now = wall_clock()
        await throttle.check(uow, settings, account=staff.mobile, now=now)
        ok = await to_thread.run_sync(verify_password, data.current_password, staff.password_hash)
        if not ok:
            await throttle.failed(
                uow, settings, account=staff.mobile, client="(password change)", now=now
            )
            raise Forbidden(_WRONG_CURRENT)
    if data.mobile is not None and data.mobile != staff.mobile:
        other = await repo.staff_by_mobile(uow.session, data.mobile)
        if other is not None:
            raise Conflict("手机号已被其他教职工使用 (mobile already used by another staff member)")
        staff.mobile = data.mobile
    if data.name is not None:
        staff.name = data.name
    if data.password is not None:
        staff.password_hash = await hash_off_loop(data.password)
        revoke_tokens(staff)
    if data.wechat_openid is not None:
        staff.wechat_openid = data.wechat_openid or None
    await uow.commit()
    return await get_staff(uow, actor, staff_id)


async def _ensure_vp_remains(uow: UnitOfWork, grants: list[StaffRole], staff_id: int) -> None:
    for g in grants:
        if g.role == Role.vice_principal.value and g.school_id is not None:
            others = await repo.count_role_in_school(
                uow.session, Role.vice_principal.value, g.school_id, excluding_staff=staff_id
            )
            if others == 0:
                raise Conflict(_LAST_VP)


async def set_staff_active(uow: UnitOfWork, actor: Actor, staff_id: int, active: bool) -> StaffOut:
    staff = await _staff(uow, actor, staff_id)
    grants = await _ensure_may_change(uow, actor, staff)
    if not active:
        await _ensure_vp_remains(uow, grants, staff_id)
        revoke_tokens(staff)
    staff.active = active
    await uow.commit()
    return await get_staff(uow, actor, staff_id)


async def add_grant(uow: UnitOfWork, actor: Actor, staff_id: int, data: GrantIn) -> StaffOut:
    staff = await _staff(uow, actor, staff_id)
    rows = await _ensure_may_change(uow, actor, staff, granting=True)
    grant = await _resolve_grant(uow, actor, data, ("body",), as_person(staff, rows))
    grant.staff_id = staff_id
    uow.session.add(grant)
    await uow.commit()
    return await get_staff(uow, actor, staff_id)


async def remove_grant(uow: UnitOfWork, actor: Actor, staff_id: int, grant_id: int) -> StaffOut:
    staff = await _staff(uow, actor, staff_id)
    grants = await _ensure_may_change(uow, actor, staff, granting=True)
    grant = next((g for g in grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound("角色", grant_id)
    await _ensure_vp_remains(uow, [grant], staff_id)
    await uow.session.delete(grant)
    await uow.commit()
    return await get_staff(uow, actor, staff_id)


# --- API keys -------------------------------------------------------------------------------


async def create_api_key(
    uow: UnitOfWork, actor: Actor, data: ApiKeyIn, now: datetime
) -> ApiKeyCreated:
    if data.school_id is not None:
        school = await school_for(uow, actor, data.school_id)
        county_id = school.county_id
    elif data.county_id is not None:
        county = await uow.session.get(County, data.county_id)
        if county is None or not access.can_read_county(actor, data.county_id):
            raise NotFound("县", data.county_id)
        county_id = data.county_id
    else:
        raise Invalid.field(("body", "county_id"), "须指定 county_id 或 school_id")
    allowed = (
        access.can_manage_staff(actor, data.school_id, county_id)
        if data.school_id is not None
        else access.can_manage_county(actor, county_id) and actor.manages_people
    )
    if not allowed:
        raise Forbidden(_NO_STAFF_RIGHTS)
    if "drill" in data.scopes and data.school_id is not None:
        raise Invalid.field(
            ("body", "scopes"),
            "演练权限只授予县级密钥:模拟时钟属于整个部署 (drill is for county keys only)",
        )
    key, prefix, key_hash = new_api_key()
    row = ApiKey(
        name=data.name,
        prefix=prefix,
        key_hash=key_hash,
        county_id=county_id,
        school_id=data.school_id,
        created_by=actor.id,
        created_at=now,
        scopes=" ".join(sorted(set(data.scopes))),
    )
    uow.session.add(row)
    await uow.commit()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


async def list_api_keys(uow: UnitOfWork, actor: Actor) -> list[ApiKeyOut]:
    if not actor.manages_people:
        raise Forbidden(_NO_STAFF_RIGHTS)
    rows = await repo.list_api_keys(
        uow.session,
        county_ids=None if actor.superuser else actor.county_ids,
        school_ids=actor.staff_school_ids,
    )
    return [ApiKeyOut.model_validate(r) for r in rows]


async def revoke_api_key(uow: UnitOfWork, actor: Actor, key_id: int, now: datetime) -> ApiKeyOut:
    row = await uow.session.get(ApiKey, key_id)
    if row is None or not access.can_manage_integration(actor, row.county_id, row.school_id):
        raise NotFound("API 密钥", key_id)
    if row.revoked_at is None:
        row.revoked_at = now
        await uow.commit()
    return ApiKeyOut.model_validate(row)
