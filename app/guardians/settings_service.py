"""A school's guardian-notice settings: read by its staff, set by its managers."""

from __future__ import annotations

from app.context import AppContext
from app.db.models import GuardianAccount, GuardianOptOut, GuardianSettings, School
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain.access import Actor
from app.errors import Conflict, Forbidden, NotFound
from app.guardians.answers import read_link
from app.guardians.schemas import (
    GuardianChannel,
    GuardianSettingsIn,
    GuardianSettingsOut,
    OptOutIn,
)

_NOT_MANAGER = "只有学校管理者或县教育局可设置家长通知 (school managers or the county admin only)"


def _out(school_id: int, row: GuardianSettings | None) -> GuardianSettingsOut:
    if row is None:
        return GuardianSettingsOut(school_id=school_id, enabled=False)
    return GuardianSettingsOut(
        school_id=school_id,
        enabled=row.enabled,
        grace_minutes=row.grace_minutes,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        channels=row.channels,
        name_mask=row.name_mask,
        report_cutoff=row.report_cutoff,
    )


async def _school(uow: UnitOfWork, actor: Actor, school_id: int) -> School:
    school = await uow.session.get(School, school_id)
    if school is None or not (
        access.can_manage_school(actor, school_id) or school_id in actor.member_school_ids
    ):
        raise NotFound("学校", school_id)
    return school


async def get_settings(uow: UnitOfWork, actor: Actor, school_id: int) -> GuardianSettingsOut:
    await _school(uow, actor, school_id)
    return _out(school_id, await uow.session.get(GuardianSettings, school_id))


async def put_settings(
    uow: UnitOfWork, ctx: AppContext, actor: Actor, school_id: int, data: GuardianSettingsIn
) -> GuardianSettingsOut:
    await _school(uow, actor, school_id)
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(_NOT_MANAGER)
    row = await uow.session.get(GuardianSettings, school_id)
    if row is None:
        row = GuardianSettings(school_id=school_id, updated_at=ctx.clock())
        uow.session.add(row)
    row.enabled = data.enabled
    row.grace_minutes = data.grace_minutes
    row.quiet_start, row.quiet_end = data.quiet_start, data.quiet_end
    row.channels = list(dict.fromkeys(data.channels))
    row.name_mask = data.name_mask
    row.report_cutoff = data.report_cutoff
    row.updated_at = ctx.clock()
    await uow.commit()
    return _out(school_id, row)


async def opt_out(uow: UnitOfWork, ctx: AppContext, token: str, data: OptOutIn) -> None:
    """The guardian named by a valid link stops messages on one channel; kept until they
    opt back in, signed in to the parents' mini-program with that mobile (``opt_in``)."""
    link = await read_link(uow, ctx, token)
    if await uow.session.get(GuardianOptOut, (link.mobile, data.channel)) is None:
        uow.session.add(GuardianOptOut(mobile=link.mobile, channel=data.channel, at=ctx.clock()))
        await uow.commit()


async def opt_in(
    uow: UnitOfWork, ctx: AppContext, account: GuardianAccount, channel: GuardianChannel
) -> None:
    """A signed-in guardian takes back an opt-out of their own mobile (the one they signed in
    with: a guardian can never change another number's choices)."""
    if account.mobile is None:
        raise Conflict("请先用手机号登录家长小程序 (sign in with your mobile first)")
    row = await uow.session.get(GuardianOptOut, (account.mobile, channel))
    if row is not None:
        await uow.session.delete(row)
        await uow.commit()
