"""WeChat sign-in (issue 22 item 4): the parents' and the staff mini-programs.

Decisions:
- a ``wx.login`` code is exchanged through ``jscode2session`` (``wechat_session``); its errors
  are 502 problems with the platform's code, and nothing is written;
- a guardian's openid is bound to a child with the one-time binding code the school prints on
  the child's 家校联系卡 (``POST /students/{id}/guardian-binding-code``, the head teacher or the
  school's managers; only the code's SHA-256 is stored, a new code replaces the unused old
  one). A used or unknown code is 409/404 and nothing is bound. One account may hold several
  children (a code each); a child may have several guardian accounts;
- the guardian's token is an HS256 JWT with its own audience (a staff token is never a
  guardian's, and the other way round), carrying the account's token version: unbinding a
  child (by the guardian or the school) is audited in ``guardian_binding_event``; the last
  child unbound revokes the account's tokens;
- a staff member's openid (the staff mini-program) is bound once with their mobile and
  password (the sign-in throttle applies, as for password sign-in); afterwards the code alone
  signs in. Rebinding to another openid needs the password again, and is logged;
- the session_key WeChat returns is never stored and never returned.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
from sqlmodel import col, select

from app.context import AppContext
from app.db.models import (
    GuardianAccount,
    GuardianBindingCode,
    GuardianBindingEvent,
    GuardianChild,
    School,
    SchoolClass,
    Staff,
    StaffWechatCode,
    StaffWechatEvent,
    Student,
)
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor, ActorKind
from app.domain.idcard import mask_mobile
from app.errors import Conflict, FieldProblem, Invalid, NotFound, Unauthorized
from app.guardians import wechat_session
from app.guardians.notices import normal_mobile
from app.guardians.schemas import MyChildOut
from app.org import auth
from app.org.staff import changeable_staff
from app.org.staff_schemas import TokenOut
from app.roster import repository as roster_repo

log = logging.getLogger("kcbx.guardians")
access_log = logging.getLogger("kcbx.guardians.access")
AUDIENCE = "kcbx:guardian"
_ALGORITHM = "HS256"
# 家校联系卡 codes: 10 characters without look-alikes (0/O, 1/I/L).
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_CHARS = 10


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


async def _replace_code(
    uow: UnitOfWork, unused: Any, make: Callable[[str], GuardianBindingCode | StaffWechatCode]
) -> str:
    """A new one-time code in place of the unused ones ``unused`` selects: only its hash is
    stored (``make`` builds the row from it); committed, the code itself answered once."""
    for row in await uow.session.exec(unused):
        await uow.session.delete(row)
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_CHARS))
    uow.session.add(make(_hash(code)))
    await uow.commit()
    return code


async def issue_binding_code(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, student_id: int
) -> str:
    student = await uow.session.get(Student, student_id)
    if student is None or not access.can_read_class(actor, student.school_id, student.class_id):
        raise NotFound("学生", student_id)
    if not access.can_edit_student(actor, student.school_id, student.class_id):
        raise Unauthorized("只有班主任或学校管理者可发放绑定码 (head teacher or managers only)")
    unused = select(GuardianBindingCode).where(
        GuardianBindingCode.student_id == student_id, col(GuardianBindingCode.used_at).is_(None)
    )
    return await _replace_code(
        uow,
        unused,
        lambda hashed: GuardianBindingCode(
            student_id=student_id, code_hash=hashed, issued_by=actor.tag, issued_at=ctx.clock()
        ),
    )


def _guardian_token(ctx: AppContext, account: GuardianAccount) -> TokenOut:
    minutes = ctx.settings.access_token_minutes
    now = ctx.wall_clock()
    claims = {
        "sub": str(account.id),
        "ver": account.token_version,
        "iss": ctx.settings.jwt_issuer,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    token = jwt.encode(claims, ctx.settings.secret_key, algorithm=_ALGORITHM)
    return TokenOut(access_token=token, expires_in=minutes * 60)


async def guardian_from_token(uow: UnitOfWork, ctx: AppContext, token: str) -> GuardianAccount:
    refused = Unauthorized("登录已失效,请重新登录 (invalid or expired token)")
    try:
        claims = jwt.decode(
            token,
            ctx.settings.secret_key,
            algorithms=[_ALGORITHM],
            issuer=ctx.settings.jwt_issuer,
            audience=AUDIENCE,
            options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
        )
        account_id, version = int(claims["sub"]), int(claims.get("ver", 0))
        if int(claims["exp"]) <= ctx.wall_clock().timestamp():
            raise refused
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise refused from exc
    account = await uow.session.get(GuardianAccount, account_id)
    if account is None or account.token_version != version:
        raise refused
    return account


async def _openid(ctx: AppContext, code: str, app: str) -> str:
    s = ctx.settings
    appid, secret = (
        (s.guardian_wechat_appid, s.guardian_wechat_secret.get_secret_value())
        if app == "parents"
        else (s.channels.wechat_appid, s.channels.wechat_secret.get_secret_value())
    )
    return await wechat_session.openid_for(
        code, base=s.wechat_login_base, appid=appid, secret=secret, policy=s.outbound
    )


async def _roster_mobile(uow: UnitOfWork, mobile: str, student_ids: list[int]) -> str:
    """``mobile`` as the roster has it for one of these children, or 422 naming the field
    (nothing written): a guardian may only claim a number the school registered."""
    people = await roster_repo.guardians_of(uow.session, student_ids)
    mine = normal_mobile(mobile)
    if mine is None or mine not in {normal_mobile(g.mobile) for gs in people.values() for g in gs}:
        raise Invalid(
            [
                FieldProblem(
                    ("body", "mobile"),
                    "不是学校登记的该孩子监护人手机号 (not a guardian mobile on the roster)",
                )
            ]
        )
    return mine


async def parent_sign_in(
    uow: UnitOfWork,
    ctx: AppContext,
    code: str,
    binding_code: str | None,
    mobile: str | None = None,
) -> TokenOut:
    binding = None
    if binding_code:
        binding = (
            await uow.session.exec(
                select(GuardianBindingCode).where(
                    GuardianBindingCode.code_hash == _hash(binding_code)
                )
            )
        ).first()
        if binding is None:
            raise NotFound("绑定码")
        if binding.used_at is not None:
            raise Conflict("绑定码已使用 (this binding code was used already)")
    openid = await _openid(ctx, code, "parents")
    s = uow.session
    account = (
        await s.exec(select(GuardianAccount).where(GuardianAccount.openid == openid))
    ).first()
    if account is None:
        if binding is None:
            raise Unauthorized("首次登录请输入家校联系卡上的绑定码 (first sign-in needs a code)")
        account = GuardianAccount(openid=openid, created_at=ctx.clock())
        s.add(account)
        await uow.flush()
    if mobile is not None:
        kids = await children_of(uow, account) if account.id is not None else []
        claimed = await _roster_mobile(
            uow, mobile, kids + ([binding.student_id] if binding else [])
        )
        if account.mobile != claimed:
            log.info("guardian account %s: mobile %s", account.id, mask_mobile(claimed))
        account.mobile = claimed
    if binding is not None:
        now = ctx.clock()
        binding.used_at, binding.used_by = now, account.id
        if await s.get(GuardianChild, (account.id, binding.student_id)) is None:
            s.add(
                GuardianChild(
                    account_id=account.id or 0, student_id=binding.student_id, bound_at=now
                )
            )
            s.add(
                GuardianBindingEvent(
                    account_id=account.id or 0,
                    student_id=binding.student_id,
                    kind="bind",
                    by=f"guardian_account:{account.id}",
                    at=now,
                )
            )
    await uow.commit()
    return _guardian_token(ctx, account)


async def children_of(uow: UnitOfWork, account: GuardianAccount) -> list[int]:
    rows = await uow.session.exec(
        select(GuardianChild.student_id).where(GuardianChild.account_id == account.id)
    )
    return sorted(rows.all())


async def unbind(
    uow: UnitOfWork, ctx: AppContext, account: GuardianAccount, student_id: int, by: str
) -> None:
    s = uow.session
    row = await s.get(GuardianChild, (account.id, student_id))
    if row is None:
        raise NotFound("学生", student_id)
    await s.delete(row)
    s.add(
        GuardianBindingEvent(
            account_id=account.id or 0, student_id=student_id, kind="unbind", by=by, at=ctx.clock()
        )
    )
    await uow.flush()
    if not await children_of(uow, account):
        account.token_version += 1
    await uow.commit()


async def issue_staff_code(uow: UnitOfWork, ctx: AppContext, actor: Actor, staff_id: int) -> str:
    """A one-time code for the staff mini-program's first sign-in, issued by someone who may
    change this person (their school's principal or vice principal, the county admin); a
    new code replaces the unused old one."""
    staff = await changeable_staff(uow, actor, staff_id)
    unused = select(StaffWechatCode).where(
        StaffWechatCode.staff_id == staff.id, col(StaffWechatCode.used_at).is_(None)
    )
    return await _replace_code(
        uow,
        unused,
        lambda hashed: StaffWechatCode(
            staff_id=staff_id, code_hash=hashed, issued_by=actor.tag, issued_at=ctx.clock()
        ),
    )


def _bind_staff(
    uow: UnitOfWork, ctx: AppContext, staff: Staff, openid: str | None, how: str, by: str
) -> None:
    """Set (or clear) the staff member's openid, audited in ``staff_wechat_event``."""
    if staff.wechat_openid == openid:
        return
    kind = "unbind" if openid is None else "rebind" if staff.wechat_openid else "bind"
    staff.wechat_openid = openid
    uow.session.add(
        StaffWechatEvent(staff_id=staff.id or 0, kind=kind, how=how, by=by, at=ctx.clock())
    )
    log.info("staff %s: WeChat %s (%s)", staff.id, kind, how)


async def _free_openid(uow: UnitOfWork, ctx: AppContext, openid: str, by: str) -> None:
    """One openid, one person: whoever held it before loses it (audited)."""
    for other in await uow.session.exec(select(Staff).where(Staff.wechat_openid == openid)):
        _bind_staff(uow, ctx, other, None, "moved", by)


async def unbind_staff(uow: UnitOfWork, ctx: AppContext, actor: Actor, staff_id: int) -> None:
    """The person themself or someone who may change them; audited."""
    if actor.kind is ActorKind.staff and actor.id == staff_id:
        staff = await uow.session.get(Staff, staff_id)
        how = "self"
    else:
        staff = await changeable_staff(uow, actor, staff_id)
        how = "admin"
    if staff is None:
        raise NotFound("教职工", staff_id)
    _bind_staff(uow, ctx, staff, None, how, actor.tag)
    await uow.commit()


async def staff_sign_in(
    uow: UnitOfWork,
    ctx: AppContext,
    code: str,
    mobile: str | None,
    password: str | None,
    client: str,
    binding_code: str | None = None,
) -> TokenOut:
    s = uow.session
    issued = None
    if binding_code:
        issued = (
            await s.exec(
                select(StaffWechatCode).where(StaffWechatCode.code_hash == _hash(binding_code))
            )
        ).first()
        if issued is None:
            raise NotFound("绑定码")
        if issued.used_at is not None:
            raise Conflict("绑定码已使用 (this binding code was used already)")
    openid = await _openid(ctx, code, "staff")
    if issued is not None:
        staff = await s.get(Staff, issued.staff_id)
        if staff is None or staff.id is None or not staff.active:
            raise NotFound("教职工", issued.staff_id)
        issued.used_at = ctx.clock()
        by = f"staff:{staff.id}"
        if staff.wechat_openid != openid:
            await _free_openid(uow, ctx, openid, by)
            _bind_staff(uow, ctx, staff, openid, "code", by)
        await uow.commit()
        return auth.token_for(ctx, staff.id, staff.token_version)
    if mobile and password:
        # The password sign-in (throttled) proves who this is; then the openid is theirs.
        signed = await auth.login(uow, ctx, mobile, password, client)
        staff = (await s.exec(select(Staff).where(Staff.mobile == mobile.strip()))).first()
        if staff is not None and staff.wechat_openid != openid:
            by = f"staff:{staff.id}"
            await _free_openid(uow, ctx, openid, by)
            _bind_staff(uow, ctx, staff, openid, "password", by)
            await uow.commit()
        return signed
    staff = (
        await s.exec(select(Staff).where(Staff.wechat_openid == openid, col(Staff.active)))
    ).first()
    if staff is None or staff.id is None:
        raise Unauthorized("首次登录请输入手机号和密码 (first sign-in needs mobile and password)")
    return auth.token_for(ctx, staff.id, staff.token_version)


async def my_children(uow: UnitOfWork, account: GuardianAccount) -> list[MyChildOut]:
    """Only the account's own children; every read logged (a guardian read)."""
    ids = await children_of(uow, account)
    out: list[MyChildOut] = []
    for sid in ids:
        student = await uow.session.get(Student, sid)
        if student is None or not student.active:
            continue
        school = await uow.session.get(School, student.school_id)
        klass = await uow.session.get(SchoolClass, student.class_id)
        out.append(
            MyChildOut(
                student_id=sid,
                name=student.name,
                school=school.name if school else "",
                class_name=klass.name if klass else "",
            )
        )
    access_log.info("guardian read: account %s children %s", account.id, ids)
    return out
