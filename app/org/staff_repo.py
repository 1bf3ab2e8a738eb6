"""Queries over staff, role grants and API keys."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.scope import paginate, visible_to
from app.db.models import ApiKey, Staff, StaffRole
from app.domain.access import Visibility

# Bounds the IN list: SQLite caps bound parameters per statement.
_NAMES_CHUNK = 1000


async def staff_by_mobile(session: AsyncSession, mobile: str) -> Staff | None:
    return (await session.exec(select(Staff).where(Staff.mobile == mobile))).one_or_none()


async def grants_of(
    session: AsyncSession, staff_ids: Collection[int]
) -> dict[int, list[StaffRole]]:
    found: dict[int, list[StaffRole]] = {sid: [] for sid in staff_ids}
    if not staff_ids:
        return found
    rows = await session.exec(
        select(StaffRole).where(col(StaffRole.staff_id).in_(staff_ids)).order_by(col(StaffRole.id))
    )
    for grant in rows:
        found[grant.staff_id].append(grant)
    return found


async def list_staff(
    session: AsyncSession,
    vis: Visibility,
    *,
    county_ids: Collection[int],
    school_id: int | None,
    role: str | None,
    class_id: int | None,
    include_inactive: bool,
    limit: int,
    offset: int,
) -> tuple[list[Staff], int]:
    """Staff whose home school is visible, or county staff of the caller's counties."""
    stmt = select(Staff)
    if not vis.everything:
        county_staff = col(Staff.school_id).is_(None) & col(Staff.county_id).in_(county_ids)
        stmt = stmt.where(visible_to(vis, Staff.school_id) | county_staff)
    if school_id is not None:
        stmt = stmt.where(Staff.school_id == school_id)
    if role is not None or class_id is not None:
        granted = select(StaffRole.staff_id)
        if role is not None:
            granted = granted.where(StaffRole.role == role)
        if class_id is not None:
            granted = granted.where(StaffRole.class_id == class_id)
        stmt = stmt.where(col(Staff.id).in_(granted))
    if not include_inactive:
        stmt = stmt.where(col(Staff.active))
    return await paginate(session, stmt, limit=limit, offset=offset, order_by=Staff.id)


async def count_role_in_school(
    session: AsyncSession, role: str, school_id: int, *, excluding_staff: int
) -> int:
    rows = await session.exec(
        select(StaffRole.id)
        .join(Staff, col(Staff.id) == StaffRole.staff_id)
        .where(
            StaffRole.role == role,
            StaffRole.school_id == school_id,
            col(Staff.active),
            StaffRole.staff_id != excluding_staff,
        )
    )
    return len(list(rows))


async def api_key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    return (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).one_or_none()


async def list_api_keys(
    session: AsyncSession, *, county_ids: Collection[int] | None, school_ids: Collection[int]
) -> list[ApiKey]:
    stmt = select(ApiKey)
    if county_ids is not None:
        stmt = stmt.where(
            col(ApiKey.county_id).in_(county_ids) | col(ApiKey.school_id).in_(school_ids)
        )
    return list(await session.exec(stmt.order_by(col(ApiKey.id))))


async def unique_role_holder(
    session: AsyncSession, role: str, *, school_id: int | None, class_id: int | None
) -> int | None:
    """The staff id already holding a one-per-scope role (principal, head teacher)."""
    stmt = select(StaffRole.staff_id).where(StaffRole.role == role)
    if class_id is not None:
        stmt = stmt.where(StaffRole.class_id == class_id)
    else:
        stmt = stmt.where(StaffRole.school_id == school_id)
    return (await session.exec(stmt)).first()


async def staff_names(session: AsyncSession, staff_ids: Collection[int]) -> dict[int, str]:
    ids = sorted(set(staff_ids))
    found: dict[int, str] = {}
    for i in range(0, len(ids), _NAMES_CHUNK):
        rows = await session.exec(
            select(Staff.id, Staff.name).where(col(Staff.id).in_(ids[i : i + _NAMES_CHUNK]))
        )
        found.update({sid: name for sid, name in rows if sid is not None})
    return found
