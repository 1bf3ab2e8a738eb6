"""Properties of the absence-case state machine over random event streams (hypothesis).

One student over three school weeks (2–20 November 2026, Asia/Shanghai; a school closure on
Wednesday 11th). A stream is a list of steps; each step moves the clock forward, delivers the
deadlines that have come due, then applies one event:

* a roll: one day (up to today) gets its status — the student's true attendance, drawn as
  streaks (absent for 1–5 days, then present, on leave, …), or now and then a random one (a
  slip, corrected by a later roll); days are revealed in any order — and the machine sees
  ``AttendanceChanged`` with the full known mapping;
* a parent contact (reached or not), a written report, 教务处's decision, a verification of one
  of the case's alerts, a re-enrolment confirmation.

Events the case refuses (``InvalidTransition``) are skipped, as the API would answer 409.

The deadline store is simulated the way the engine keeps it: every ``OpenDeadline`` adds a
pending row keyed by (case, kind, key); once the clock passes its ``due_at`` it is delivered
once, as ``DeadlineDue`` to the case it was made for, and removed. At the end the clock runs a
month on so that every pending deadline is delivered.

Each step passes one of two policies at random: a case must keep the one it opened with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.attendance import DayStatus
from app.domain.calendar import SchoolCalendar, Term
from app.domain.cases import (
    LEVELS,
    AlertStatus,
    AlertVerified,
    AttendanceChanged,
    Case,
    CaseStatus,
    ContactLogged,
    DeadlineDue,
    DeadlineKind,
    Effect,
    Event,
    InvalidTransition,
    Level,
    Notify,
    OpenDeadline,
    Policy,
    RaiseAlert,
    ReenrollmentConfirmed,
    ReportDecided,
    ReportSubmitted,
    Timeline,
    WithdrawAlert,
    reopens,
    transition,
)
from app.domain.roles import Role

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
CALENDAR = SchoolCalendar(
    terms=(Term("2026-2027学年第一学期", date(2026, 9, 1), date(2027, 1, 22)),),
    closures=frozenset({date(2026, 11, 11)}),
)
FIRST, LAST = date(2026, 11, 2), date(2026, 11, 20)
# Rolls may name any weekday, the closure included (its mark must be ignored).
WEEKDAYS = [
    FIRST + timedelta(days=i) for i in range(19) if (FIRST + timedelta(days=i)).weekday() < 5
]
START = datetime(2026, 11, 2, 7, 0, tzinfo=TZ)
POLICIES = (
    Policy(),
    Policy(contact_minutes=30, report_hours=12, yellow_days=3, red_days=4, verify_hours=24),
)

RUNS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- the stream ---------------------------------------------------------------------------------

STATUS = st.sampled_from(
    [DayStatus.absent] * 5
    + [DayStatus.present] * 2
    + [DayStatus.late, DayStatus.leave, DayStatus.not_recorded]
)
# The student's true statuses, weekday by weekday, as streaks.
TRUTH = st.lists(
    st.tuples(STATUS.filter(lambda s: s is not DayStatus.not_recorded), st.integers(1, 5)),
    min_size=1,
    max_size=10,
).map(lambda streaks: [status for status, n in streaks for _ in range(n)])
# Which day a roll names: how many weekdays back from today, mostly today or yesterday.
DAYS_BACK = st.one_of(st.just(0), st.integers(0, 1), st.integers(0, 14))
# None: the truth; a status: what was entered instead (a slip, or a later correction).
ENTERED = st.one_of(st.none(), st.none(), st.none(), STATUS)
ACTION = st.one_of(
    st.tuples(st.just("roll"), DAYS_BACK, ENTERED),
    st.tuples(st.just("roll"), DAYS_BACK, ENTERED),
    st.tuples(st.just("roll"), DAYS_BACK, ENTERED),
    st.tuples(st.just("contact"), st.booleans()),
    st.tuples(st.just("report")),
    st.tuples(st.just("decide"), st.booleans()),
    st.tuples(st.just("verify"), st.integers(0, 8)),
    st.tuples(st.just("reenroll")),
)
# Minutes: often within the hour (calls, 1-hour deadlines), often half a day or a day on.
ADVANCE = st.one_of(st.integers(0, 90), st.integers(600, 1700))
STEPS = st.lists(st.tuples(ADVANCE, ACTION, st.integers(0, 1)), min_size=15, max_size=60)

Action = tuple[Any, ...]
Step = tuple[int, Action, int]
DeadlineId = tuple[int, DeadlineKind, str]  # (case number, kind, key)


@dataclass(frozen=True)
class Applied:
    """One transition as it happened: the case (by number) the event was given, the case the
    result is (None when the student still has no open case), before and after."""

    now: datetime
    event: Event
    policy: Policy
    target: int  # -1: the student never had a case
    case_no: int | None
    before: Case | None
    after: Case
    effects: list[Effect]


@dataclass
class Trace:
    applied: list[Applied] = field(default_factory=list)
    cases: dict[int, Case] = field(default_factory=dict)  # the last state of each case
    opened: list[DeadlineId] = field(default_factory=list)
    delivered: list[DeadlineId] = field(default_factory=list)
    pending: dict[DeadlineId, datetime] = field(default_factory=dict)


def _local_today(now: datetime) -> date:
    return now.astimezone(TZ).date()


def simulate(truth: Sequence[DayStatus], steps: Sequence[Step]) -> Trace:
    trace = Trace()
    now = START
    statuses: dict[date, DayStatus] = {}
    found_at: dict[date, datetime] = {}
    current = -1  # number of the student's latest case, -1 before the first

    def apply(target: int, event: Event, policy: Policy) -> None:
        nonlocal current
        before = trace.cases.get(target)
        case_no: int | None = target
        try:
            after, effects = transition(before, event, now, policy)
        except InvalidTransition:
            assert not isinstance(event, (AttendanceChanged, DeadlineDue))
            return
        no_case = before is None or before.status is CaseStatus.closed
        if reopens(before, after):
            # a relapse within the follow-up weeks reopens the same case
            assert isinstance(event, AttendanceChanged)
            assert all(c.status is CaseStatus.closed for c in trace.cases.values())
        elif no_case and after.status is not CaseStatus.closed:
            # (1) a new case opens only when the student has no open one
            assert isinstance(event, AttendanceChanged)
            case_no = current = len(trace.cases)
            assert all(c.status is CaseStatus.closed for c in trace.cases.values())
        elif no_case and before is not None and isinstance(event, AlertVerified | ReportDecided):
            # 核查 and a report decision may still come after the case closed; it stays closed.
            assert after.status is CaseStatus.closed
        elif no_case and before is not None and effects and isinstance(event, AttendanceChanged):
            # A correction of a closed case's days: alerts withdrawn, nothing else; still shut.
            assert after.status is CaseStatus.closed
            assert all(isinstance(e, WithdrawAlert | Notify | Timeline) for e in effects)
            assert len(after.live_alerts) < len(before.live_alerts)
        elif no_case:
            assert effects == [], "no case, no effects"
            assert after.status is CaseStatus.closed
            case_no = None
        trace.applied.append(Applied(now, event, policy, target, case_no, before, after, effects))
        if case_no is None:
            return
        trace.cases[case_no] = after
        for e in effects:
            if isinstance(e, OpenDeadline):
                trace.opened.append((case_no, e.kind, e.key))
                trace.pending[(case_no, e.kind, e.key)] = e.due_at

    def deliver_due() -> None:
        while True:
            due = [(at, d) for d, at in trace.pending.items() if at <= now]
            if not due:
                return
            _, first = min(due)
            del trace.pending[first]
            trace.delivered.append(first)
            case_no, kind, key = first
            apply(case_no, DeadlineDue(kind, key), POLICIES[0])

    for advance, action, policy_index in steps:
        now += timedelta(minutes=advance)
        deliver_due()
        policy = POLICIES[policy_index]
        event = _event(action, now, truth, statuses, found_at, trace.cases.get(current))
        if event is not None:
            apply(current, event, policy)
    now += timedelta(days=31)
    deliver_due()
    return trace


def _event(
    action: Action,
    now: datetime,
    truth: Sequence[DayStatus],
    statuses: dict[date, DayStatus],
    found_at: dict[date, datetime],
    case: Case | None,
) -> Event | None:
    kind = action[0]
    if kind == "roll":
        known = [d for d in WEEKDAYS if d <= _local_today(now)]
        if not known:
            return None
        index = len(known) - 1 - action[1] % len(known)
        day = known[index]
        status = action[2] or (truth[index] if index < len(truth) else DayStatus.present)
        statuses[day] = status
        if status is DayStatus.absent:
            found_at.setdefault(day, datetime.combine(day, time(8, 0), TZ))
        return AttendanceChanged(dict(statuses), dict(found_at), CALENDAR, FIRST, TZ_NAME)
    if kind == "contact":
        return ContactLogged(reached=action[1], at=now)
    if kind == "report":
        return ReportSubmitted(now)
    if kind == "decide":
        return ReportDecided(accepted=action[1], at=now)
    if kind == "verify":
        raised = [a for a in case.alerts if a.status is AlertStatus.raised] if case else []
        return AlertVerified(raised[action[1] % len(raised)].key, now) if raised else None
    return ReenrollmentConfirmed(now)


def _live_levels(case: Case) -> list[Level]:
    return sorted((a.level for a in case.live_alerts), key=LEVELS.index)


def _longest_run(statuses: Mapping[date, DayStatus]) -> int:
    """The longest run of absent school days in a roll (not recorded days are skipped)."""
    best = current = 0
    for d in CALENDAR.school_days_between(FIRST, LAST):
        status = statuses.get(d, DayStatus.not_recorded)
        if status is DayStatus.absent:
            current += 1
            best = max(best, current)
        elif status is not DayStatus.not_recorded:
            current = 0
    return best


# --- (1) one open case --------------------------------------------------------------------------


@RUNS
@given(TRUTH, STEPS)
def test_at_most_one_open_case_and_each_keeps_its_policy(
    truth: list[DayStatus], steps: list[Step]
) -> None:
    trace = simulate(truth, steps)
    states: dict[int, Case] = {}
    opened_with: dict[int, Policy] = {}
    for a in trace.applied:
        if a.case_no is None:
            continue
        states[a.case_no] = a.after
        assert sum(c.status is not CaseStatus.closed for c in states.values()) <= 1
        opened_with.setdefault(a.case_no, a.policy)
        assert a.after.policy == opened_with[a.case_no]
        if a.before is not None and a.before.status is not CaseStatus.closed:
            # the same case: same opening, same student
            assert a.after.opened_at == a.before.opened_at
            assert a.after.version in (a.before.version, a.before.version + 1)
    # Every case but the latest is closed.
    last = len(trace.cases) - 1
    assert all(c.status is CaseStatus.closed for n, c in trace.cases.items() if n != last)


# --- (2) levels in order, every alert announced --------------------------------------------------


@RUNS
@given(TRUTH, STEPS)
def test_levels_rise_in_order_and_every_alert_is_announced(
    truth: list[DayStatus], steps: list[Step]
) -> None:
    trace = simulate(truth, steps)
    # The live alerts per (case, episode), rebuilt from the effects alone.
    live: dict[tuple[int, int], dict[Level, str]] = {}
    roll: Mapping[date, DayStatus] = {}
    for a in trace.applied:
        if isinstance(a.event, AttendanceChanged):
            roll = a.event.statuses
        if a.case_no is None:
            assert a.effects == []
            continue
        case_no = a.case_no
        notices = [e for e in a.effects if isinstance(e, Notify)]
        raised_levels: list[Level] = []
        for e in a.effects:
            if isinstance(e, RaiseAlert):
                alert = e.alert
                assert alert.episode == a.after.episode
                assert e.recipient is a.after.policy.recipient(alert.level)
                model = live.setdefault((case_no, alert.episode), {})
                # never a second live alert of a level; every lower level live before it
                assert alert.level not in model
                assert all(lv in model for lv in LEVELS[: LEVELS.index(alert.level)])
                model[alert.level] = alert.key
                raised_levels.append(alert.level)
                assert any(
                    (n.topic, n.alert_key, n.role, n.level)
                    == ("alert.raised", alert.key, e.recipient, alert.level)
                    for n in notices
                ), "an alert raised without its notice"
            elif isinstance(e, WithdrawAlert):
                model = live[(case_no, a.after.episode)]
                [level] = [lv for lv, key in model.items() if key == e.key]
                del model[level]
                assert any(
                    (n.topic, n.alert_key, n.role) == ("alert.withdrawn", e.key, e.recipient)
                    for n in notices
                ), "an alert withdrawn without telling its recipient"
        # within one step, blue → yellow → red
        assert raised_levels == sorted(raised_levels, key=LEVELS.index)
        assert len(set(raised_levels)) == len(raised_levels)

        case = a.after
        levels = _live_levels(case)
        # the effects describe the state: the case's live alerts are the model's
        model = live.get((case_no, case.episode), {})
        assert {x.level: x.key for x in case.live_alerts} == model
        # live levels are always blue, blue+yellow or blue+yellow+red
        assert levels == list(LEVELS[: len(levels)])
        if case.status is not CaseStatus.closed:
            # a live case never keeps an alert the roll no longer supports (corrections,
            # leave granted afterwards)
            longest = _longest_run(roll)
            assert all(case.policy.days_for(lv) <= longest for lv in levels)
        if case.status is CaseStatus.awaiting_reenrollment:
            assert case.level is Level.red
        if case.status is CaseStatus.open:
            # never a level skipped: the current run's level is live
            due = case.policy.level_for(len(case.run))
            assert due is not None, "an open case always has an absent day"
            assert LEVELS.index(case.level or Level.blue) >= LEVELS.index(due)
            assert case.level is not None
        # alert keys are unique within the case
        keys = [x.key for x in case.alerts]
        assert len(keys) == len(set(keys))


# --- (3) deadlines: once, unique, fenced ----------------------------------------------------------


@RUNS
@given(TRUTH, STEPS)
def test_every_deadline_is_unique_and_delivered_once(
    truth: list[DayStatus], steps: list[Step]
) -> None:
    trace = simulate(truth, steps)
    # no duplicate deadline for one obligation of one case
    assert len(trace.opened) == len(set(trace.opened))
    # every deadline delivered, exactly once (the run ends a month after the last event)
    assert trace.pending == {}
    assert Counter(trace.delivered) == Counter(trace.opened)

    notices: Counter[tuple[int, str, str, Role]] = Counter()
    for a in trace.applied:
        if not isinstance(a.event, DeadlineDue):
            continue
        before = a.before
        assert before is not None
        assert a.after == before, "a deadline never changes the case"
        if before.status is CaseStatus.closed:
            assert a.effects == [], "a deadline of a closed case fired"
        if a.event.kind is DeadlineKind.verify:
            alert = next(x for x in before.alerts if x.key == a.event.key)
            escalations = [
                n for n in a.effects if isinstance(n, Notify) and n.topic == "alert.escalated"
            ]
            if alert.status is AlertStatus.raised and before.status is not CaseStatus.closed:
                # an unverified alert of a live case is always escalated to the next level up
                assert [(n.role, n.alert_key) for n in escalations] == [
                    (before.policy.escalation(alert.level), alert.key)
                ]
            else:
                assert a.effects == []
        for n in a.effects:
            if isinstance(n, Notify):
                notices[(a.target, n.topic, a.event.key, n.role)] += 1
    # one overdue notice per obligation and role, ever
    assert all(count == 1 for count in notices.values())


# --- (4) determinism ------------------------------------------------------------------------------


@RUNS
@given(TRUTH, STEPS)
def test_replaying_a_stream_gives_the_same_alerts_and_effects(
    truth: list[DayStatus], steps: list[Step]
) -> None:
    trace = simulate(truth, steps)
    again = simulate(truth, steps)
    assert again.applied == trace.applied
    assert again.cases == trace.cases

    # Replaying the recorded events (deadline deliveries included) from scratch, without the
    # store, gives the same effects step by step and the same cases.
    cases: dict[int, Case] = {}
    for a in trace.applied:
        after, effects = transition(cases.get(a.target), a.event, a.now, a.policy)
        assert effects == a.effects
        assert after == a.after
        if a.case_no is not None:
            cases[a.case_no] = after
    assert cases == trace.cases
