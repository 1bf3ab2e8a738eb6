"""Cluster alerts (疫情预警): the detector's hits turned into alerts, later cases joining them,
the notices to the 疫情报告人 and the principal, and the report obligation.

Decisions:
- the rules are the defaults (``app.domain.illness.DEFAULT_RULES``) with the county's rows
  over them by code (a row may switch a default off);
- a hit opens an alert keyed by (county, rule, scope, scope id, window start): re-running
  the look (a retried roll, a second roll of the day) finds the same key and writes nothing
  new; an alert takes later cases of its scope matching its rule from its window's start to
  ``window_end`` (the day raised plus ``KCBX_ILLNESS_ABSORB_SCHOOL_DAYS`` school days), and a
  hit of another rule of the same symptom group and scope inside that window joins it too;
- notices go out in the same transaction (the outbox) to the school's 疫情报告人 and
  principal; without a 疫情报告人 the principal alone, told of the vacancy; the notice
  names no child (it may reach a group robot);
- the report obligation is the alert's ``report_due`` (raised + the rule's deadline):
  a row, so a restart loses nothing; ``escalate_overdue`` tells the county when it passes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from app.alerts import engine_repo as alerts_repo
from app.context import AppContext
from app.db.models import IllnessAlert, IllnessRecord, LeaveRequest
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice
from app.domain import illness as dom
from app.domain.roles import ROLE_LABELS, VACANCY_REASON, Role
from app.domain.schools import SchoolRef
from app.illness import repo
from app.illness.labels import symptom_text

log = logging.getLogger("kcbx.illness")

TOPIC = "illness.alert"
OVERDUE_TOPIC = "illness.overdue"


def rule_of(row: Any) -> dom.Rule:
    return dom.Rule(
        code=row.code,
        name=row.name,
        scope=dom.Scope(row.scope),
        count=row.count,
        window_days=row.window_days,
        symptoms=frozenset(row.symptoms),
        disease=dom.Disease(row.disease) if row.disease else None,
        deadline_hours=row.deadline_hours,
        symptoms_all=frozenset(row.symptoms_all or ()),
        unexplained_only=bool(row.unexplained_only),
    )


async def rules_for(uow: UnitOfWork, county_id: int) -> list[dom.Rule]:
    rows = {r.code: r for r in await repo.county_rules(uow.session, county_id)}
    rules = [rule_of(rows[d.code]) if d.code in rows else d for d in dom.DEFAULT_RULES]
    defaults = {d.code for d in dom.DEFAULT_RULES}
    rules += [rule_of(r) for code, r in rows.items() if code not in defaults]
    off = {code for code, r in rows.items() if not r.active}
    return [r for r in rules if r.code not in off]


def cases_of(
    records: Sequence[IllnessRecord],
    leaves: Sequence[LeaveRequest],
    grades: dict[int, int],
    first_school_day: Any,
) -> list[dom.Case]:
    """The register as the detector sees it: an illness record on the day it began, a sick
    leave with symptoms on its first school day."""
    cases = [
        dom.Case(
            r.student_id,
            r.school_id,
            r.grade_id,
            r.class_id,
            r.school_date,
            frozenset(r.symptoms),
            dom.Disease(r.diagnosis) if r.diagnosis else None,
        )
        for r in records
    ]
    for lv in leaves:
        if not lv.symptoms:
            continue
        day = first_school_day(lv.start_date, lv.end_date)
        if day is not None:
            cases.append(
                dom.Case(
                    lv.student_id,
                    lv.school_id,
                    grades.get(lv.class_id, 0),
                    lv.class_id,
                    day,
                    frozenset(lv.symptoms),
                )
            )
    return cases


def _first_school_day(school: SchoolRef) -> Any:
    def first(start: date, end: date) -> date | None:
        days = school.calendar.school_days_between(start, end)
        return days[0] if days else None

    return first


async def register_cases(
    uow: UnitOfWork, school: SchoolRef, start: date, end: date
) -> tuple[list[dom.Case], list[IllnessRecord]]:
    """The school's cases from ``start`` to ``end``, and the illness records read for them
    (the caller's onset times: one read of the register, not two)."""
    records = await repo.school_records(uow.session, [school.id], start, end)
    leaves = await repo.sick_leaves(uow.session, [school.id], start, end)
    grades = await repo.grades_of(uow.session, {lv.class_id for lv in leaves}) if leaves else {}
    cases = [
        c
        for c in cases_of(records, leaves, grades, _first_school_day(school))
        if start <= c.day <= end
    ]
    return cases, list(records)


def _after(school: SchoolRef, day: date, n: int) -> date:
    """The ``n``-th school day after ``day`` (``day`` itself for 0)."""
    if n <= 0:
        return day
    days = school.calendar.school_days_between(
        day + timedelta(days=1), day + timedelta(days=7 * n + 30)
    )
    return days[n - 1] if len(days) >= n else day + timedelta(days=7 * n)


def _case_json(case: dom.Case, onsets: dict[tuple[int, date], datetime]) -> dict[str, Any]:
    onset = onsets.get((case.student_id, case.day))
    return {
        "student_id": case.student_id,
        "class_id": case.class_id,
        "day": case.day.isoformat(),
        "symptoms": sorted(case.symptoms),
        "disease": case.disease.value if case.disease else None,
        "onset_at": onset.isoformat() if onset else None,
    }


def _group(rule: dom.Rule) -> tuple[str, frozenset[str], frozenset[str], str | None]:
    disease = rule.disease.value if rule.disease else None
    return (rule.scope.value, rule.symptoms, rule.symptoms_all, disease)


async def look(
    uow: UnitOfWork, ctx: AppContext, school: SchoolRef, day: date
) -> list[IllnessAlert]:
    """Apply the county's rules to the school's register on ``day``: open alerts for rules
    newly met, let open alerts take the cases of their window. Returns alerts opened."""
    rules = await _rules(uow, ctx, school.county_id)
    if not rules:
        return []
    longest = max(r.window_days for r in rules)
    school_days = school.calendar.school_days_between(day - timedelta(days=longest * 3 + 31), day)
    if day not in school_days:
        return []
    start = dom.window(school_days, day, longest)[0]
    cases, records = await register_cases(uow, school, start, day)
    onsets = {(r.student_id, r.school_date): r.onset_at for r in records}
    hits = dom.detect(rules, cases, school_days, day)
    now = ctx.clock()
    alerts = await repo.absorbing_alerts(uow.session, school.id, day)
    by_code = {r.code: r for r in rules}
    opened = await _open_alerts(uow, ctx, school, day, hits, alerts, by_code, now)
    _take_cases(uow, alerts, cases, by_code, onsets, now)
    await uow.flush()
    for alert in opened:
        await _notify_opened(uow, alert, now)
    return opened


async def _rules(uow: UnitOfWork, ctx: AppContext, county: int) -> list[dom.Rule]:
    """The county's rules, cached per process: a rule set in this process clears it at
    commit, another process's change shows within the reference cache's time-to-live."""

    async def load(_: set[int]) -> dict[int, tuple[dom.Rule, ...]]:
        return {county: tuple(await rules_for(uow, county))}

    return list((await ctx.cache.illness_rules.get_many({county}, load))[county])


async def _open_alerts(
    uow: UnitOfWork,
    ctx: AppContext,
    school: SchoolRef,
    day: date,
    hits: Sequence[dom.Hit],
    alerts: list[IllnessAlert],
    by_code: dict[str, dom.Rule],
    now: datetime,
) -> list[IllnessAlert]:
    """An alert for each hit no alert of its group and scope takes yet; each joins
    ``alerts``. Returns those this look opened (not another look's it found)."""
    opened: list[IllnessAlert] = []
    for hit in hits:
        group = _group(hit.rule)
        if any(
            a.scope_id == hit.scope_id
            and a.rule_code in by_code
            and _group(by_code[a.rule_code]) == group
            for a in alerts
        ):
            continue
        key = (
            f"c{school.county_id}:{hit.rule.code}:{hit.rule.scope.value}:{hit.scope_id}"
            f":{hit.window_start.isoformat()}"
        )
        if await repo.alert_by_key(uow.session, key) is not None:
            continue
        values = _alert_values(ctx, school, day, hit, key, now)
        # Another look (a follow-up, a second engine) may have opened it first: the key makes
        # this insert a no-op, the alert then takes this look's cases but is not told again.
        inserted = await repo.insert_alert(uow.session, values)
        alert = await repo.alert_by_key(uow.session, key)
        if alert is None or alert in alerts:
            continue
        alerts.append(alert)
        if inserted:
            opened.append(alert)
    return opened


def _alert_values(
    ctx: AppContext, school: SchoolRef, day: date, hit: dom.Hit, key: str, now: datetime
) -> dict[str, Any]:
    return dict(
        idem_key=key,
        county_id=school.county_id,
        school_id=school.id,
        rule_code=hit.rule.code,
        rule_name=hit.rule.name,
        scope=hit.rule.scope.value,
        scope_id=hit.scope_id,
        symptoms=sorted(hit.rule.symptoms),
        disease=hit.rule.disease.value if hit.rule.disease else None,
        window_start=hit.window_start,
        window_end=_after(school, day, ctx.settings.illness_absorb_school_days),
        cases=[],
        report_due=now + timedelta(hours=hit.rule.deadline_hours),
        created_at=now,
        updated_at=now,
    )


def _take_cases(
    uow: UnitOfWork,
    alerts: Sequence[IllnessAlert],
    cases: Sequence[dom.Case],
    by_code: dict[str, dom.Rule],
    onsets: dict[tuple[int, date], datetime],
    now: datetime,
) -> None:
    """Each alert takes the cases of its window, scope and rule it does not have yet (a
    child once)."""
    for alert in alerts:
        rule = by_code.get(alert.rule_code)
        if rule is None:
            continue
        mine = [
            c
            for c in cases
            if alert.window_start <= c.day <= alert.window_end
            and c.scope_id(rule.scope) == alert.scope_id
            and rule.matches(c)
        ]
        known = {(c["student_id"], c["day"]) for c in alert.cases}
        seen = {c["student_id"] for c in alert.cases}
        fresh = [
            c
            for c in sorted(mine, key=lambda c: (c.day, c.student_id))
            if (c.student_id, c.day.isoformat()) not in known and c.student_id not in seen
        ]
        if fresh:
            alert.cases = [*alert.cases, *(_case_json(c, onsets) for c in fresh)]
            alert.updated_at = now
            uow.session.add(alert)


def _title(alert: IllnessAlert, due_label: str) -> str:
    scope = dom.SCOPE_LABELS[dom.Scope(alert.scope)]
    what = (
        dom.DISEASE_LABELS[dom.Disease(alert.disease)]
        if alert.disease
        else symptom_text(alert.symptoms) or "症状"
    )
    return (
        f"疫情预警:{scope}{len(alert.cases)} 名学生{what}({alert.rule_name}),请于{due_label}前报告"[
            :200
        ]
    )


async def _school_people(uow: UnitOfWork, alert: IllnessAlert, role: Role) -> list[tuple[int, str]]:
    return await alerts_repo.recipients(
        uow.session, role, county_id=alert.county_id, school_id=alert.school_id, class_id=0
    )


async def _notify_opened(uow: UnitOfWork, alert: IllnessAlert, now: datetime) -> None:
    reporters = await _school_people(uow, alert, Role.epidemic_reporter)
    principals = await _school_people(uow, alert, Role.principal)
    due = alert.report_due.strftime("%m-%d %H:%M UTC")
    title = _title(alert, due)
    rows: list[Notice] = []
    people = [(sid, Role.epidemic_reporter) for sid, _ in reporters]
    people += [(sid, Role.principal) for sid, _ in principals]
    if not reporters:
        title = f"{title}({VACANCY_REASON}:{ROLE_LABELS[Role.epidemic_reporter]}无人任职)"[:200]
    if not people:
        people = [
            (sid, Role.county_admin)
            for sid, _ in await alerts_repo.recipients(
                uow.session, Role.county_admin, county_id=alert.county_id, school_id=0, class_id=0
            )
        ]
    seen: set[int] = set()
    for staff_id, role in people:
        if staff_id in seen:
            continue
        seen.add(staff_id)
        rows.append(
            Notice(
                idem_key=f"illness:{alert.id}:raised:{staff_id}",
                staff_id=staff_id,
                role=role,
                topic=TOPIC,
                title=title,
                school_id=alert.school_id,
                created_at=now,
            )
        )
    await outbox.enqueue(uow.session, rows)


async def escalate_overdue(ctx: AppContext, limit: int = 200) -> int:
    """Open alerts past their report deadline go to the county (admins and health contact),
    once: the alert becomes ``escalated`` in the same transaction as the notices."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        due = await repo.overdue_alerts(uow.session, now, limit)
        rows: list[Notice] = []
        for alert in due:
            alert.status = "escalated"
            alert.escalated_at = now
            alert.updated_at = now
            uow.session.add(alert)
            title = (
                f"疫情报告逾期:{alert.rule_name},{len(alert.cases)} 名学生,学校 #{alert.school_id}"[
                    :200
                ]
            )
            for role in (Role.county_admin, Role.county_health):
                for staff_id, _ in await alerts_repo.recipients(
                    uow.session, role, county_id=alert.county_id, school_id=0, class_id=0
                ):
                    rows.append(
                        Notice(
                            idem_key=f"illness:{alert.id}:overdue:{staff_id}",
                            staff_id=staff_id,
                            role=role,
                            topic=OVERDUE_TOPIC,
                            title=title,
                            school_id=alert.school_id,
                            created_at=now,
                        )
                    )
        await outbox.enqueue(uow.session, rows)
        await uow.commit()
    return len(due)
