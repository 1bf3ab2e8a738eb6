"""The alert engine: runs the pure case machine (``app.domain.cases``) against storage.

One shape for every trigger (attendance, a staff action, a due deadline): load the case
(locked on PostgreSQL), apply the transition, then write the case, its alerts, deadlines,
timeline, tasks, the return notices a transfer strikes off and notifications (the outbox) in
the caller's transaction. Nothing is sent
from here: delivery reads the outbox. Attendance reaches it through ``app.alerts.reactions``,
due deadlines through ``app.alerts.sweep``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from app.alerts import deadlines_repo, timeline_repo
from app.alerts import engine_repo as repo
from app.alerts import policy as policies
from app.context import AppContext
from app.db.models import (
    AbsenceCase,
    Alert,
    CaseTask,
)
from app.db.uow import UnitOfWork
from app.delivery import outbox
from app.delivery.outbox import Notice, NoticeState
from app.domain.cases import (
    AlertState,
    AlertStatus,
    CancelTasks,
    Case,
    CaseStatus,
    CloseReason,
    CreateTask,
    Effect,
    Event,
    Level,
    Notify,
    OpenDeadline,
    Policy,
    RaiseAlert,
    ReportStatus,
    StrikeOffNotices,
    Timeline,
    TimelineKind,
    VerifyAlert,
    WithdrawAlert,
    transition,
)
from app.domain.return_notices import struck_off_text
from app.domain.roles import ROLE_LABELS, VACANCY_REASON, Role, stand_ins

log = logging.getLogger("kcbx.engine")

# --- rows ⇄ domain --------------------------------------------------------------------------

_SNAPSHOTS: dict[tuple[tuple[str, Any], ...], Policy] = {}


def _snapshot(values: dict[str, Any]) -> Policy:
    """A case's policy snapshot. Cases share a handful of snapshots and a Policy is
    immutable, so each distinct one is converted once (a sweep loads hundreds of cases)."""
    try:
        key = tuple(sorted(values.items()))
        found = _SNAPSHOTS.get(key)
    except TypeError:  # an unhashable value: not a policy this engine wrote
        return policies.from_dict(values)
    if found is None:
        if len(_SNAPSHOTS) >= 1024:
            _SNAPSHOTS.clear()
        found = _SNAPSHOTS[key] = policies.from_dict(values)
    return found


_DAYS: dict[tuple[str, ...], tuple[date, ...]] = {}


def _days(values: Sequence[str]) -> tuple[date, ...]:
    """ISO dates as a tuple of dates. The cases of a sweep share a few runs of school days
    (the same recent days), so each distinct run is parsed once: parsing them was a fifth of
    a sweep batch's Python time."""
    key = tuple(values)
    found = _DAYS.get(key)
    if found is None:
        if len(_DAYS) >= 4096:
            _DAYS.clear()
        found = _DAYS[key] = tuple(date.fromisoformat(d) for d in key)
    return found


class _CaseFields(Protocol):
    """A case's columns as either an ``AbsenceCase`` or a plain ``engine_repo.CaseRow`` has
    them (but for the JSON ones, which differ: parsed there, text here)."""

    @property
    def student_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def episode(self) -> int: ...
    @property
    def contact_day(self) -> date | None: ...
    @property
    def contact_attempt(self) -> int: ...
    @property
    def contact_done(self) -> bool: ...
    @property
    def report_status(self) -> str | None: ...
    @property
    def report_round(self) -> int: ...
    @property
    def reenroll_due(self) -> datetime | None: ...
    @property
    def close_reason(self) -> str | None: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def version(self) -> int: ...


class _AlertFields(Protocol):
    @property
    def level(self) -> str: ...
    @property
    def episode(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def raised_at(self) -> datetime: ...
    @property
    def verify_due(self) -> datetime: ...


# The stored words as members, looked up: ``CaseStatus(word)`` costs a microsecond, several
# times a case, and a sweep batch converts hundreds of cases. A word not among them still
# goes through the enum, which says what is wrong with it.
_STATUS = {m.value: m for m in CaseStatus}
_LEVEL = {m.value: m for m in Level}
_ALERT_STATUS = {m.value: m for m in AlertStatus}
_REPORT = {m.value: m for m in ReportStatus}


def _case(
    row: _CaseFields,
    policy: Policy,
    run: tuple[date, ...],
    alerts: Sequence[tuple[_AlertFields, tuple[date, ...]]],
) -> Case:
    return Case(
        student_id=row.student_id,
        policy=policy,
        status=_STATUS.get(row.status) or CaseStatus(row.status),
        opened_at=row.opened_at,
        episode=row.episode,
        run=run,
        alerts=tuple(
            AlertState(
                level=_LEVEL.get(a.level) or Level(a.level),
                episode=a.episode,
                seq=a.seq,
                status=_ALERT_STATUS.get(a.status) or AlertStatus(a.status),
                raised_at=a.raised_at,
                days=days,
                verify_due=a.verify_due,
            )
            for a, days in alerts
        ),
        contact_day=row.contact_day,
        contact_attempt=row.contact_attempt,
        contact_done=row.contact_done,
        report=(_REPORT.get(row.report_status) or ReportStatus(row.report_status))
        if row.report_status
        else None,
        report_round=row.report_round,
        reenroll_due=row.reenroll_due,
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        closed_at=row.closed_at,
        version=row.version,
    )


def to_domain(row: AbsenceCase, alerts: Sequence[Alert]) -> Case:
    return _case(row, _snapshot(row.policy), _days(row.run), [(a, _days(a.days)) for a in alerts])


# Both parse a JSON column's text once per distinct text: a sweep batch's cases share a
# handful of policies and run days (``_snapshot`` caches by value, these by the text, so not
# even the JSON is decoded twice). Both results are immutable, so sharing them is safe.
@functools.lru_cache(maxsize=1024)
def _policy_of_text(text: str) -> Policy:
    """A policy column's JSON text as a Policy."""
    return _snapshot(json.loads(text))


@functools.lru_cache(maxsize=4096)
def _days_of_text(text: str) -> tuple[date, ...]:
    """A JSON array of ISO dates, as its text (``_days``)."""
    return _days(json.loads(text))


def plain_to_domain(row: repo.CaseRow, alerts: Sequence[repo.AlertRow]) -> Case:
    """``to_domain`` of the sweep's plain rows (``engine_repo.case_rows_for_update``)."""
    return _case(
        row,
        _policy_of_text(row.policy),
        _days_of_text(row.run),
        [(a, _days_of_text(a.days)) for a in alerts],
    )


def copy_into(row: AbsenceCase, case: Case, now: datetime) -> None:
    # Only what changed is set: an attribute set on a SQLModel row costs more than the
    # comparison, and a fired deadline usually leaves the case as it was.
    for name, value in (
        ("status", case.status.value),
        ("episode", case.episode),
        ("level", case.level.value if case.level else None),
        ("run", [d.isoformat() for d in case.run]),
        ("contact_day", case.contact_day),
        ("contact_attempt", case.contact_attempt),
        ("contact_done", case.contact_done),
        ("report_status", case.report.value if case.report else None),
        ("report_round", case.report_round),
        ("reenroll_due", case.reenroll_due),
        ("close_reason", case.close_reason.value if case.close_reason else None),
        ("closed_at", case.closed_at),
        ("version", case.version),
    ):
        if getattr(row, name) != value:
            setattr(row, name, value)
    row.updated_at = now


# --- writing a transition -------------------------------------------------------------------


class CaseRef(Protocol):
    """What notifying about a case needs of its row: an ``AbsenceCase`` or a plain
    ``engine_repo.CaseRow`` (the sweep's)."""

    @property
    def id(self) -> int | None: ...
    @property
    def student_id(self) -> int: ...
    @property
    def county_id(self) -> int: ...
    @property
    def school_id(self) -> int: ...
    @property
    def class_id(self) -> int: ...


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


@dataclass
class Outbox:
    """What the transitions of one transaction append — notices (the outbox proper) and
    timeline entries — gathered and written in one statement each before it commits, and the
    recipients looked up once per role and scope (a sweep fires hundreds of deadlines for the
    same few schools). Same rows, same transaction: only fewer round trips."""

    people: dict[tuple[Role, int], list[tuple[int, str]]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    # Cases whose transition left them as they were: only ``updated_at`` moves, by id.
    touched: dict[datetime, set[int]] = field(default_factory=dict)
    # Notices held for a digest (``apply_effects(..., hold_for_digest=True)``: a deadline
    # fired beyond the digest horizon): written to the inbox as dispatched, awaiting it.
    folded: list[Notice] = field(default_factory=list)
    # The cases of the transaction (``expect``): the first lookup of a role fetches its
    # holders for all of them in one statement instead of one statement per school or class.
    batch: list[CaseRef] = field(default_factory=list)
    # Who a role's notice reaches, by (role, county, school, class or None for a role above
    # the class): ``_notify``'s answer.
    routes: dict[tuple[Role, int, int, int | None], tuple[Role, list[tuple[int, str]]]] = field(
        default_factory=dict
    )

    def expect(self, rows: Collection[CaseRef]) -> None:
        self.batch = list(rows)

    async def recipients(self, uow: UnitOfWork, role: Role, row: CaseRef) -> list[tuple[int, str]]:
        scope = repo.recipient_scope(
            role, county_id=row.county_id, school_id=row.school_id, class_id=row.class_id
        )
        found = self.people.get((role, scope))
        if found is None and self.batch:
            scopes = {
                repo.recipient_scope(
                    role, county_id=r.county_id, school_id=r.school_id, class_id=r.class_id
                )
                for r in (*self.batch, row)
            }
            scopes -= {s for r, s in self.people if r == role}
            for s, people in (await repo.recipients_among(uow.session, role, scopes)).items():
                self.people[(role, s)] = people
            found = self.people[(role, scope)]
        if found is None:
            found = await repo.recipients(
                uow.session,
                role,
                county_id=row.county_id,
                school_id=row.school_id,
                class_id=row.class_id,
            )
            self.people[(role, scope)] = found
        return found

    async def recipients_first(self, uow: UnitOfWork, roles: list[Role], row: CaseRef) -> None:
        """Look up, in one statement, those of ``roles`` (a role and its stand-ins) not yet
        known for this student's scope: a vacant role then costs no statement per role up."""
        scopes = {
            role: repo.recipient_scope(
                role, county_id=row.county_id, school_id=row.school_id, class_id=row.class_id
            )
            for role in roles
        }
        missing = [role for role in roles if (role, scopes[role]) not in self.people]
        if not missing:
            return
        found = await repo.recipients_of_roles(
            uow.session,
            missing,
            county_id=row.county_id,
            school_id=row.school_id,
            class_id=row.class_id,
        )
        for role, people in found.items():
            self.people[(role, scopes[role])] = people

    async def write(self, uow: UnitOfWork) -> None:
        notices, self.notices = self.notices, []
        timeline, self.timeline = self.timeline, []
        deadlines, self.deadlines = self.deadlines, []
        await deadlines_repo.add_deadlines(uow.session, deadlines)
        touched, self.touched = self.touched, {}
        for at, case_ids in touched.items():
            await repo.touch_cases(uow.session, case_ids, at)
        await timeline_repo.write(uow.session, timeline)
        await outbox.enqueue(uow.session, notices)
        folded, self.folded = self.folded, []
        await outbox.enqueue(uow.session, folded)


@dataclass
class Applied:
    case: AbsenceCase
    effects: list[Effect] = field(default_factory=list)


async def apply_effects(
    uow: UnitOfWork,
    row: AbsenceCase,
    alerts: list[Alert],
    new: Case,
    effects: list[Effect],
    *,
    now: datetime,
    actor: str | None,
    trigger: str | None = None,
    outbox: Outbox | None = None,
    unchanged: bool = False,
    hold_for_digest: bool = False,
) -> Applied:
    """Write the new case and its effects. ``row`` is persistent (has an id). ``trigger``
    names what caused them (a deadline), so each notice is written once per cause; by default
    the case's new version. With an ``outbox`` the caller writes its notices before commit;
    without, they are written here. ``unchanged``: ``new`` is the case as loaded (a fired
    deadline that only notifies), so only its ``updated_at`` moves. ``hold_for_digest``: the
    notices are not sent each on its own but held for the engine's digest (a deadline fired
    long after its time, after an outage)."""
    box = Outbox() if outbox is None else outbox
    assert row.id is not None
    if unchanged:
        box.touched.setdefault(now, set()).add(row.id)
    else:
        copy_into(row, new, now)
    by_key = _write_alerts(uow, row, alerts, effects, now, actor)
    if any(isinstance(e, RaiseAlert) for e in effects):
        await uow.flush()  # alert ids for the notifications below
    cause = trigger or f"case:{row.id}:v{row.version}"
    for seq, effect in enumerate(effects, start=1):
        await _write_effect(
            uow,
            row,
            effect,
            alerts=by_key,
            now=now,
            actor=actor,
            cause=f"{cause}:{seq}",
            box=box,
            hold=hold_for_digest,
        )
    if outbox is None:
        await box.write(uow)
    return Applied(row, effects)


def only_notices(case: Case, new: Case, effects: Sequence[Effect]) -> bool:
    """The transition left ``case`` as it was and only notifies and records: what a fired
    deadline does (``apply_notices`` writes it without the case's ORM row)."""
    return new is case and all(isinstance(e, Notify | Timeline) for e in effects)


async def apply_notices(
    uow: UnitOfWork,
    row: CaseRef,
    alerts: Mapping[str, _HasId],
    effects: Sequence[Effect],
    *,
    now: datetime,
    trigger: str,
    box: Outbox,
    hold: bool,
) -> None:
    """``apply_effects`` of effects that ``only_notices`` accepts, from a plain row: the same
    notices (same ``idem_key``s) and timeline entries into ``box``. The case row is not
    written: nothing of it changed (its ``updated_at`` is when its state last changed; what
    fired is on its timeline)."""
    assert row.id is not None
    for seq, effect in enumerate(effects, start=1):
        if isinstance(effect, Timeline):
            box.timeline.append(timeline_repo.entry(row.id, effect.kind, effect.text, now, None))
        elif isinstance(effect, Notify):
            cause = f"{trigger}:{seq}"
            await _notify(uow, row, effect, alerts=alerts, now=now, cause=cause, box=box, hold=hold)


def _write_alerts(
    uow: UnitOfWork,
    row: AbsenceCase,
    alerts: list[Alert],
    effects: list[Effect],
    now: datetime,
    actor: str | None,
) -> dict[str, Alert]:
    """The alert effects (raise, withdraw, verify) on the case's alerts; returns them by key,
    the raised ones included (not yet flushed)."""
    assert row.id is not None
    by_key = {a.key: a for a in alerts}
    for effect in effects:
        if isinstance(effect, RaiseAlert):
            a = effect.alert
            alert = Alert(
                case_id=row.id,
                key=a.key,
                student_id=row.student_id,
                school_id=row.school_id,
                class_id=row.class_id,
                level=a.level.value,
                episode=a.episode,
                seq=a.seq,
                status=a.status.value,
                raised_at=a.raised_at,
                days=[d.isoformat() for d in a.days],
                rule=effect.rule,
                recipient_role=effect.recipient.value,
                verify_due=a.verify_due,
            )
            uow.session.add(alert)
            by_key[a.key] = alert
        elif isinstance(effect, WithdrawAlert):
            alert = by_key[effect.key]
            alert.status = AlertStatus.withdrawn.value
            alert.withdrawn_at = now
            alert.withdrawn_reason = effect.reason[:200]
        elif isinstance(effect, VerifyAlert):
            alert = by_key[effect.key]
            alert.status = AlertStatus.verified.value
            alert.verified_at = effect.at
            alert.verified_by = actor
    return by_key


async def _write_effect(
    uow: UnitOfWork,
    row: AbsenceCase,
    effect: Effect,
    *,
    alerts: dict[str, Alert],
    now: datetime,
    actor: str | None,
    cause: str,
    box: Outbox,
    hold: bool,
) -> None:
    """One of the other effects: a deadline and a timeline entry into the outbox, a task, a
    task cancellation, return notices struck off (their entries into the outbox), a notice
    (``cause`` makes it once per cause and effect)."""
    assert row.id is not None
    if isinstance(effect, OpenDeadline):
        box.deadlines.append(
            {
                "dedupe_key": f"{row.id}:{effect.kind.value}:{effect.key}",
                "case_id": row.id,
                "kind": effect.kind.value,
                "key": effect.key,
                "due_at": effect.due_at,
                "state": "pending",
                "created_at": now,
            },
        )
    elif isinstance(effect, Timeline):
        box.timeline.append(timeline_repo.entry(row.id, effect.kind, effect.text, now, actor))
    elif isinstance(effect, CreateTask):
        uow.session.add(
            CaseTask(
                case_id=row.id,
                kind=effect.kind.value,
                role=effect.role.value,
                due_at=effect.due_at,
                created_at=now,
            )
        )
        if effect.kind.value == "home_visit":
            row.work_group = await _work_group(uow, row, box)
    elif isinstance(effect, CancelTasks):
        await repo.cancel_open_tasks(uow.session, row.id, effect.kind.value, effect.note, now)
    elif isinstance(effect, StrikeOffNotices):
        for number in await repo.strike_off_notices(
            uow.session, row.id, effect.on, effect.reason, now
        ):
            text = struck_off_text(number, effect.reason)
            kind = TimelineKind.return_notice_struck_off
            box.timeline.append(timeline_repo.entry(row.id, kind, text, now, actor))
    elif isinstance(effect, Notify):
        await _notify(uow, row, effect, alerts=alerts, now=now, cause=cause, box=box, hold=hold)


async def _work_group(uow: UnitOfWork, row: AbsenceCase, box: Outbox) -> list[dict[str, Any]]:
    """联合劝返 work group: the vice principal leads; head teacher and subject teachers join."""
    members: list[dict[str, Any]] = []
    for role, part in (
        (Role.vice_principal, "lead"),
        (Role.head_teacher, "member"),
        (Role.subject_teacher, "member"),
    ):
        for staff_id, name in await box.recipients(uow, role, row):
            members.append({"staff_id": staff_id, "name": name, "role": role.value, "part": part})
    return members


async def _notify(
    uow: UnitOfWork,
    row: CaseRef,
    effect: Notify,
    *,
    alerts: Mapping[str, _HasId],
    now: datetime,
    cause: str,
    box: Outbox,
    hold: bool,
) -> None:
    # A sweep batch notifies the same role of the same few schools hundreds of times: who
    # it reaches is resolved once per role and student scope in the transaction.
    where = (effect.role, row.county_id, row.school_id, repo.class_scope(effect.role, row.class_id))
    route = box.routes.get(where)
    if route is None:
        route = box.routes[where] = await _route(uow, row, effect.role, box)
    role, people = route
    title = effect.title
    if role is not effect.role:
        vacant = ROLE_LABELS[effect.role]
        title = f"{effect.title}({VACANCY_REASON}:{vacant}无人任职,转{ROLE_LABELS[role]})"
    elif not people:
        log.warning("case %s: nobody holds %s or any role above it", row.id, effect.role)
    alert = alerts.get(effect.alert_key) if effect.alert_key else None
    (box.folded if hold else box.notices).extend(
        [
            Notice(
                idem_key=f"{cause}:{staff_id}",
                staff_id=staff_id,
                role=role,
                topic=effect.topic,
                title=title,
                level=effect.level,
                case_id=row.id,
                alert_id=alert.id if alert else None,
                student_id=row.student_id,
                school_id=row.school_id,
                created_at=now,
                state=NoticeState.held_for_digest if hold else NoticeState.to_send,
            )
            for staff_id, _ in people
        ]
    )


async def _route(
    uow: UnitOfWork, row: CaseRef, wanted: Role, box: Outbox
) -> tuple[Role, list[tuple[int, str]]]:
    """Who a notice to ``wanted`` about ``row``'s student goes to, and in which role."""
    await box.recipients_first(uow, [wanted, *stand_ins(wanted)], row)
    people = await box.recipients(uow, wanted, row)
    if not people:
        # 岗位空缺: nobody holds the role (no head teacher for the class, no vice principal):
        # the notice goes to the nearest level up that has someone, saying why.
        for up in stand_ins(wanted):
            found = await box.recipients(uow, up, row)
            if found:
                return up, found
    return wanted, people


async def notify_role(
    uow: UnitOfWork,
    row: AbsenceCase,
    role: Role,
    topic: str,
    title: str,
    cause: str,
    now: datetime,
    box: Outbox,
) -> None:
    """A notice about ``row`` to everyone holding ``role`` for it, once per ``cause``."""
    await _notify(
        uow, row, Notify(role, topic, title), alerts={}, now=now, cause=cause, box=box, hold=False
    )


# --- triggers -------------------------------------------------------------------------------


async def apply_event(
    uow: UnitOfWork, ctx: AppContext, row: AbsenceCase, event: Event, actor: str | None
) -> Applied:
    """A staff action on a case (already loaded, and locked by the caller)."""
    alerts = (await repo.alerts_of(uow.session, [row.id or 0]))[row.id or 0]
    now = ctx.clock()
    case = to_domain(row, alerts)
    new, effects = transition(case, event, now, case.policy)
    return await apply_effects(uow, row, alerts, new, effects, now=now, actor=actor)
