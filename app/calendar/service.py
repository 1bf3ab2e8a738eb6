"""The school calendar admin: terms and breaks, closures and extra school days, the
day-by-day view, and the official national holiday lists for years the package lacks.

Rules kept here:
- anyone who can read a school reads its calendar, terms and overrides; school managers
  (校长, 分管副校长, 教务处) and the county admin change them;
- a term is checked by building the pure ``SchoolCalendar`` with all the school's terms, so a
  term that overlaps another, a break outside its term, or a term ending before it starts is
  a 422 and nothing is stored;
- one override per school and date (409 for a second one);
- the national lists are loaded by the operator (superuser) only, for any year (one the
  package lacks, or to correct one it has); a loaded year wins over the package, for every
  county, and takes effect on the next calendar read. A county admin's fake holiday would
  silence that day's alerts in every county, so counties and schools change their own days
  with calendar overrides instead (a school's ``calendar-overrides``; a county's
  ``counties/{id}/calendar-overrides`` writes one for each of its schools).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import metadata

import chinese_calendar

from app.calendar import repository as repo
from app.calendar.schemas import (
    CalendarDayOut,
    CalendarOverrideIn,
    CalendarOverrideOut,
    CountyOverrideSkipped,
    CountyOverridesOut,
    NationalCalendarOut,
    NationalYearIn,
    NationalYearOut,
    OverrideKind,
    SchoolCalendarOut,
    TermBreakIn,
    TermBreakOut,
    TermIn,
    TermOut,
    TermUpdate,
)
from app.core.access import require_key_scope
from app.db.models import CalendarOverride, County, NationalYear, Staff, Term, TermBreak
from app.db.uow import UnitOfWork
from app.domain import access
from app.domain import calendar as cal
from app.domain.access import Actor, ActorKind
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.org import repository as org_repo
from app.org.service import school_for

MAX_RANGE_DAYS = 366
# Years probed for the package's coverage; wide enough for any release of it.
_PROBE_YEARS = range(1990, 2101)

_NOT_MANAGER = (
    "需要学校管理权限:校长、分管副校长、教务处或县教育局管理员 "
    "(school managers or county admins only)"
)
_NOT_COUNTY_ADMIN = "需要县教育局管理员权限 (county admins only)"
_NOT_NATIONAL_ADMIN = (
    "只有系统运维可修改国家节假日安排;县、校请用校历调整 "
    "(only the operator edits the national holiday list; counties and schools use "
    "calendar overrides)"
)


# --- the package's coverage -----------------------------------------------------------------


@lru_cache(maxsize=1)
def package_years() -> tuple[int, ...]:
    """The years the installed ``chinesecalendar`` knows, found by asking it (it raises
    ``NotImplementedError`` for any other year)."""
    covered = []
    for year in _PROBE_YEARS:
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            continue
        covered.append(year)
    return tuple(covered)


def _package_version() -> str:
    try:
        return metadata.version("chinesecalendar")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- the day-by-day view --------------------------------------------------------------------


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise Invalid.field(("query", "end"), "结束日期早于开始日期 (end is before start)")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid.field(
            ("query", "end"),
            f"一次最多查询 {MAX_RANGE_DAYS} 天 (at most {MAX_RANGE_DAYS} days at a time)",
        )


async def school_calendar(
    uow: UnitOfWork, actor: Actor, school_id: int, start: date, end: date
) -> SchoolCalendarOut:
    await school_for(uow, actor, school_id)
    _check_range(start, end)
    calendar = (await repo.calendars_for(uow.session, [school_id]))[school_id]
    days = []
    for offset in range((end - start).days + 1):
        info = calendar.day_info(start + timedelta(days=offset))
        term = calendar.term_of(info.day)
        days.append(
            CalendarDayOut(
                date=info.day,
                is_school_day=info.is_school_day,
                verified=info.verified,
                kind=info.kind,
                reason=info.reason,
                term=term.name if term is not None else None,
            )
        )
    return SchoolCalendarOut(
        school_id=school_id,
        start=start,
        end=end,
        school_days=sum(d.is_school_day for d in days),
        unverified_days=sum(not d.verified for d in days),
        days=days,
    )


# --- terms ----------------------------------------------------------------------------------


def _manage(actor: Actor, school_id: int) -> None:
    """Writing a school's calendar (terms, closures, make-up days): its managers; an API key
    also needs the ``calendar`` scope (a closed day silences every alert of that day)."""
    if not access.can_manage_school(actor, school_id):
        raise Forbidden(_NOT_MANAGER)
    require_key_scope(actor, access.KeyScope.calendar)


def _domain_term(row: Term, breaks: Sequence[TermBreak]) -> cal.Term:
    return cal.Term(
        row.name,
        row.start_date,
        row.end_date,
        tuple(cal.TermBreak(b.start_date, b.end_date, b.name) for b in breaks),
    )


def _term_out(row: Term, breaks: Sequence[TermBreak]) -> TermOut:
    return TermOut(
        id=row.id or 0,
        school_id=row.school_id,
        name=row.name,
        start_date=row.start_date,
        end_date=row.end_date,
        breaks=[
            TermBreakOut(id=b.id or 0, name=b.name, start_date=b.start_date, end_date=b.end_date)
            for b in sorted(breaks, key=lambda b: b.start_date)
        ],
    )


def _validated_term(
    name: str, start: date, end: date, breaks: Sequence[TermBreakIn], others: Sequence[cal.Term]
) -> None:
    """Raise a 422 naming the field at fault unless the term fits the school's 校历."""
    try:
        cal.Term(name, start, end)
    except cal.InvalidCalendar as exc:
        raise Invalid.field(("body", "end_date"), str(exc)) from exc
    pauses = []
    for i, b in enumerate(breaks):
        pause = cal.TermBreak(b.start_date, b.end_date, b.name)
        try:
            cal.Term(name, start, end, (pause,))
        except cal.InvalidCalendar as exc:
            raise Invalid.field(("body", "breaks", i), str(exc)) from exc
        pauses.append(pause)
    try:
        cal.SchoolCalendar(terms=(*others, cal.Term(name, start, end, tuple(pauses))))
    except cal.InvalidCalendar as exc:
        raise Invalid.field(("body", "start_date"), str(exc)) from exc


async def _other_terms(uow: UnitOfWork, school_id: int, excluding: int | None) -> list[cal.Term]:
    rows = [t for t in await repo.terms_of(uow.session, school_id) if t.id != excluding]
    breaks = await repo.breaks_of(uow.session, [t.id for t in rows if t.id is not None])
    return [_domain_term(t, breaks[t.id or 0]) for t in rows]


def _break_rows(term_id: int, breaks: Sequence[TermBreakIn]) -> list[TermBreak]:
    return [
        TermBreak(term_id=term_id, name=b.name, start_date=b.start_date, end_date=b.end_date)
        for b in breaks
    ]


async def _term(uow: UnitOfWork, actor: Actor, term_id: int) -> Term:
    term = await uow.session.get(Term, term_id)
    if term is None or not access.can_read_school(actor, term.school_id):
        raise NotFound("学期", term_id)
    return term


async def create_term(uow: UnitOfWork, actor: Actor, school_id: int, data: TermIn) -> TermOut:
    await school_for(uow, actor, school_id)
    _manage(actor, school_id)
    others = await _other_terms(uow, school_id, excluding=None)
    _validated_term(data.name, data.start_date, data.end_date, data.breaks, others)
    term = Term(
        school_id=school_id, name=data.name, start_date=data.start_date, end_date=data.end_date
    )
    uow.session.add(term)
    await uow.flush()
    breaks = _break_rows(term.id or 0, data.breaks)
    uow.session.add_all(breaks)
    await uow.commit()
    return _term_out(term, breaks)


async def list_terms(uow: UnitOfWork, actor: Actor, school_id: int) -> list[TermOut]:
    await school_for(uow, actor, school_id)
    rows = await repo.terms_of(uow.session, school_id)
    breaks = await repo.breaks_of(uow.session, [t.id for t in rows if t.id is not None])
    return [_term_out(t, breaks[t.id or 0]) for t in rows]


async def get_term(uow: UnitOfWork, actor: Actor, term_id: int) -> TermOut:
    term = await _term(uow, actor, term_id)
    breaks = await repo.breaks_of(uow.session, [term_id])
    return _term_out(term, breaks[term_id])


async def update_term(uow: UnitOfWork, actor: Actor, term_id: int, data: TermUpdate) -> TermOut:
    term = await _term(uow, actor, term_id)
    _manage(actor, term.school_id)
    current = (await repo.breaks_of(uow.session, [term_id]))[term_id]
    name = data.name if data.name is not None else term.name
    start = data.start_date if data.start_date is not None else term.start_date
    end = data.end_date if data.end_date is not None else term.end_date
    breaks = (
        data.breaks
        if data.breaks is not None
        else [
            TermBreakIn(name=b.name, start_date=b.start_date, end_date=b.end_date) for b in current
        ]
    )
    others = await _other_terms(uow, term.school_id, excluding=term_id)
    _validated_term(name, start, end, breaks, others)
    term.name, term.start_date, term.end_date = name, start, end
    if data.breaks is not None:
        for b in current:
            await uow.session.delete(b)
        current = _break_rows(term_id, data.breaks)
        uow.session.add_all(current)
    await uow.commit()
    return _term_out(term, current)


async def delete_term(uow: UnitOfWork, actor: Actor, term_id: int) -> None:
    term = await _term(uow, actor, term_id)
    _manage(actor, term.school_id)
    for b in (await repo.breaks_of(uow.session, [term_id]))[term_id]:
        await uow.session.delete(b)
    # The breaks go first: no relationship tells the flush that they depend on the term.
    await uow.flush()
    await uow.session.delete(term)
    await uow.commit()


# --- overrides ------------------------------------------------------------------------------


def _override_out(row: CalendarOverride) -> CalendarOverrideOut:
    return CalendarOverrideOut(
        id=row.id or 0,
        school_id=row.school_id,
        date=row.day,
        kind=OverrideKind(row.kind),
        reason=row.reason,
    )


async def create_override(
    uow: UnitOfWork, actor: Actor, school_id: int, data: CalendarOverrideIn
) -> CalendarOverrideOut:
    await school_for(uow, actor, school_id)
    _manage(actor, school_id)
    if await repo.override_on(uow.session, school_id, data.date) is not None:
        raise Conflict(
            f"{data.date.isoformat()} 已有校历调整,请先删除 "
            f"(the school already has an override on {data.date.isoformat()})"
        )
    row = CalendarOverride(
        school_id=school_id, day=data.date, kind=data.kind.value, reason=data.reason
    )
    uow.session.add(row)
    await uow.commit()
    return _override_out(row)


async def create_county_override(
    uow: UnitOfWork, actor: Actor, county_id: int, data: CalendarOverrideIn
) -> CountyOverridesOut:
    """A county's own day (a county-wide closure for snow, an extra school day): one override
    per school of the county existing now; a school that already has an entry on that day
    keeps it and is listed in ``skipped``. Schools opened later do not inherit it."""
    if (
        not access.can_read_county(actor, county_id)
        or await uow.session.get(County, county_id) is None
    ):
        raise NotFound("县", county_id)
    if not access.can_manage_county(actor, county_id):
        raise Forbidden(_NOT_COUNTY_ADMIN)
    require_key_scope(actor, access.KeyScope.calendar)
    schools = (await org_repo.schools_by_county(uow.session, {county_id})).get(
        county_id, frozenset()
    )
    created: list[CalendarOverride] = []
    skipped: list[CountyOverrideSkipped] = []
    for school_id in sorted(schools):
        if await repo.override_on(uow.session, school_id, data.date) is not None:
            skipped.append(
                CountyOverrideSkipped(
                    school_id=school_id,
                    reason="该校当天已有校历调整 (the school has its own entry that day)",
                )
            )
            continue
        row = CalendarOverride(
            school_id=school_id, day=data.date, kind=data.kind.value, reason=data.reason
        )
        uow.session.add(row)
        created.append(row)
    await uow.commit()
    return CountyOverridesOut(created=[_override_out(r) for r in created], skipped=skipped)


async def list_overrides(
    uow: UnitOfWork, actor: Actor, school_id: int, *, start: date | None, end: date | None
) -> list[CalendarOverrideOut]:
    await school_for(uow, actor, school_id)
    if start is not None and end is not None and end < start:
        raise Invalid.field(("query", "end"), "结束日期早于开始日期 (end is before start)")
    rows = await repo.overrides_of(uow.session, school_id, start=start, end=end)
    return [_override_out(r) for r in rows]


async def delete_override(uow: UnitOfWork, actor: Actor, override_id: int) -> None:
    row = await uow.session.get(CalendarOverride, override_id)
    if row is None or not access.can_read_school(actor, row.school_id):
        raise NotFound("校历调整", override_id)
    _manage(actor, row.school_id)
    await uow.session.delete(row)
    await uow.commit()


# --- national holiday lists -----------------------------------------------------------------


def may_load_national_years(actor: Actor) -> bool:
    return actor.kind is ActorKind.staff and actor.superuser


def _national_out(row: NationalYear) -> NationalYearOut:
    return NationalYearOut(
        year=row.year,
        holidays=sorted(date.fromisoformat(d) for d in row.holidays),
        makeup_workdays=sorted(date.fromisoformat(d) for d in row.makeup_workdays),
        covered_by_package=row.year in package_years(),
        loaded_by=row.loaded_by,
        loaded_at=row.created_at,
    )


def _validated_year(year: int, data: NationalYearIn) -> cal.NationalCalendarYear:
    try:
        cal.NationalCalendarYear.of(year, data.holidays)
    except cal.InvalidCalendar as exc:
        raise Invalid.field(("body", "holidays"), str(exc)) from exc
    try:
        return cal.NationalCalendarYear.of(year, data.holidays, data.makeup_workdays)
    except cal.InvalidCalendar as exc:
        raise Invalid.field(("body", "makeup_workdays"), str(exc)) from exc


async def put_national_year(
    uow: UnitOfWork, actor: Actor, year: int, data: NationalYearIn, now: datetime
) -> NationalYearOut:
    """Load, or replace, the official list of one year."""
    if not may_load_national_years(actor):
        raise Forbidden(_NOT_NATIONAL_ADMIN)
    official = _validated_year(year, data)
    holidays = [d.isoformat() for d in sorted(official.holidays)]
    makeup = [d.isoformat() for d in sorted(official.makeup_workdays)]
    # An operator acting from a script has no staff row to point at.
    loaded_by = actor.id if await uow.session.get(Staff, actor.id) is not None else None
    row = await uow.session.get(NationalYear, year)
    if row is None:
        row = NationalYear(
            year=year,
            holidays=holidays,
            makeup_workdays=makeup,
            loaded_by=loaded_by,
            created_at=now,
        )
        uow.session.add(row)
    else:
        row.holidays, row.makeup_workdays = holidays, makeup
        row.loaded_by, row.created_at = loaded_by, now
    await uow.commit()
    return _national_out(row)


async def national_calendar(uow: UnitOfWork, actor: Actor) -> NationalCalendarOut:
    rows = await repo.national_year_rows(uow.session)
    return NationalCalendarOut(
        package_version=_package_version(),
        package_years=list(package_years()),
        loaded=[_national_out(r) for r in rows],
    )


async def get_national_year(uow: UnitOfWork, actor: Actor, year: int) -> NationalYearOut:
    row = await uow.session.get(NationalYear, year)
    if row is None:
        raise NotFound(f"{year} 年的节假日安排")
    return _national_out(row)
