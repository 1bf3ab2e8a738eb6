"""Queries that assemble schools' 校历 into the pure ``SchoolCalendar``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import CalendarOverride, NationalYear, School, Term, TermBreak
from app.domain import calendar as cal
from app.domain.schools import SchoolRef

CLOSURE = "closure"
EXTRA_SCHOOL_DAY = "extra_school_day"


async def national_years(session: AsyncSession) -> tuple[cal.NationalCalendarYear, ...]:
    rows = await session.exec(select(NationalYear).order_by(col(NationalYear.year)))
    return tuple(
        cal.NationalCalendarYear.of(
            r.year,
            (date.fromisoformat(d) for d in r.holidays),
            (date.fromisoformat(d) for d in r.makeup_workdays),
        )
        for r in rows
    )


async def calendars_for(
    session: AsyncSession, school_ids: Collection[int]
) -> dict[int, cal.SchoolCalendar]:
    """Every listed school's calendar, in four queries whatever the number of schools."""
    ids = sorted(set(school_ids))
    if not ids:
        return {}
    terms = list(await session.exec(select(Term).where(col(Term.school_id).in_(ids))))
    breaks: dict[int, list[TermBreak]] = defaultdict(list)
    term_ids = [t.id for t in terms if t.id is not None]
    if term_ids:
        for b in await session.exec(select(TermBreak).where(col(TermBreak.term_id).in_(term_ids))):
            breaks[b.term_id].append(b)
    overrides = await session.exec(
        select(CalendarOverride).where(col(CalendarOverride.school_id).in_(ids))
    )
    closures: dict[int, set[date]] = defaultdict(set)
    extra: dict[int, set[date]] = defaultdict(set)
    for o in overrides:
        (closures if o.kind == CLOSURE else extra)[o.school_id].add(o.day)
    years = await national_years(session)
    by_school: dict[int, list[cal.Term]] = defaultdict(list)
    for t in terms:
        by_school[t.school_id].append(
            cal.Term(
                t.name,
                t.start_date,
                t.end_date,
                tuple(cal.TermBreak(b.start_date, b.end_date, b.name) for b in breaks[t.id or 0]),
            )
        )
    return {
        sid: cal.SchoolCalendar(
            terms=tuple(by_school[sid]),
            closures=frozenset(closures[sid]),
            extra_school_days=frozenset(extra[sid]),
            official_years=years,
        )
        for sid in ids
    }


# --- the calendar admin API -----------------------------------------------------------------


async def terms_of(session: AsyncSession, school_id: int) -> list[Term]:
    rows = await session.exec(
        select(Term).where(Term.school_id == school_id).order_by(col(Term.start_date))
    )
    return list(rows)


async def breaks_of(session: AsyncSession, term_ids: Collection[int]) -> dict[int, list[TermBreak]]:
    found: dict[int, list[TermBreak]] = defaultdict(list)
    if not term_ids:
        return found
    rows = await session.exec(
        select(TermBreak)
        .where(col(TermBreak.term_id).in_(sorted(set(term_ids))))
        .order_by(col(TermBreak.start_date), col(TermBreak.id))
    )
    for b in rows:
        found[b.term_id].append(b)
    return found


async def overrides_of(
    session: AsyncSession, school_id: int, *, start: date | None, end: date | None
) -> list[CalendarOverride]:
    stmt = select(CalendarOverride).where(CalendarOverride.school_id == school_id)
    if start is not None:
        stmt = stmt.where(col(CalendarOverride.day) >= start)
    if end is not None:
        stmt = stmt.where(col(CalendarOverride.day) <= end)
    return list(await session.exec(stmt.order_by(col(CalendarOverride.day))))


async def override_on(session: AsyncSession, school_id: int, day: date) -> CalendarOverride | None:
    rows = await session.exec(
        select(CalendarOverride).where(
            CalendarOverride.school_id == school_id, CalendarOverride.day == day
        )
    )
    return rows.first()


async def national_year_rows(session: AsyncSession) -> list[NationalYear]:
    return list(await session.exec(select(NationalYear).order_by(col(NationalYear.year))))


async def school_refs(session: AsyncSession, school_ids: Collection[int]) -> dict[int, SchoolRef]:
    ids = set(school_ids)
    if not ids:
        return {}
    calendars = await calendars_for(session, ids)
    rows = await session.exec(select(School).where(col(School.id).in_(sorted(ids))))
    return {
        s.id: SchoolRef(
            s.id,
            s.county_id,
            s.timezone,
            s.active,
            (s.morning_check, s.noon_check, s.dismissal_check),
            calendars[s.id],
        )
        for s in rows
        if s.id is not None
    }
