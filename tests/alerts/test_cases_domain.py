"""The absence-case state machine (app/domain/cases.py), by example.

A school calendar with one term covering November 2026, times in Asia/Shanghai:
2026-11-20 is a Friday, 2026-11-23 a Monday. Everything here is pure: no database, no clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest

from app.domain.attendance import DayStatus
from app.domain.calendar import SchoolCalendar, Term
from app.domain.cases import (
    TRANSITIONS,
    AlertState,
    AlertStatus,
    AlertVerified,
    AttendanceChanged,
    CancelTasks,
    Case,
    CaseStatus,
    CloseReason,
    ContactLogged,
    CreateTask,
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
    ReportStatus,
    ReportSubmitted,
    StrikeOffNotices,
    TaskKind,
    Timeline,
    TransferredOut,
    VerifyAlert,
    WithdrawAlert,
    mermaid,
    reopens,
    transition,
)
from app.domain.roles import Role

TZ_NAME = "Asia/Shanghai"
TZ = ZoneInfo(TZ_NAME)
CALENDAR = SchoolCalendar(
    terms=(Term("2026-2027学年第一学期", date(2026, 9, 1), date(2027, 1, 22)),)
)
SINCE = date(2026, 11, 2)
POLICY = Policy()

A = DayStatus.absent
P = DayStatus.present
L = DayStatus.leave
LATE = DayStatus.late
NR = DayStatus.not_recorded

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "case-state-machine.md"


def at(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """A time on a November 2026 day, Beijing time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def nov(day: int) -> date:
    return date(2026, 11, day)


def roll(
    statuses: dict[int, DayStatus], found: dict[int, datetime] | None = None
) -> AttendanceChanged:
    """The student's statuses by November day; an absence is found at the 08:00 check."""
    found_at = {nov(d): at(d) for d, s in statuses.items() if s is A}
    found_at.update({nov(d): t for d, t in (found or {}).items()})
    return AttendanceChanged(
        statuses={nov(d): s for d, s in statuses.items()},
        found_at=found_at,
        calendar=CALENDAR,
        since=SINCE,
        timezone=TZ_NAME,
    )


def of(effects: Iterable[Effect], kind: type[T]) -> list[T]:
    return [e for e in effects if isinstance(e, kind)]


def deadlines(effects: Iterable[Effect], kind: DeadlineKind) -> list[OpenDeadline]:
    return [e for e in of(effects, OpenDeadline) if e.kind is kind]


def raised(effects: Iterable[Effect]) -> list[AlertState]:
    return [e.alert for e in of(effects, RaiseAlert)]


def alert(case: Case, level: Level) -> AlertState:
    [found] = [a for a in case.live_alerts if a.level is level]
    return found


def run(
    steps: Sequence[tuple[Event, datetime]], case: Case | None = None, policy: Policy = POLICY
) -> tuple[Case, list[list[Effect]]]:
    """Apply events in order; return the last case and each step's effects."""
    out: list[list[Effect]] = []
    for event, now in steps:
        case, effects = transition(case, event, now, policy)
        out.append(effects)
    assert case is not None
    return case, out


def red_case() -> Case:
    """Absent Monday 23, Tuesday 24 and Wednesday 25, each found at the 08:00 check."""
    case, _ = run(
        [
            (roll({23: A}), at(23, 8, 5)),
            (roll({23: A, 24: A}), at(24, 8, 5)),
            (roll({23: A, 24: A, 25: A}), at(25, 8, 5)),
        ]
    )
    assert case.level is Level.red
    return case


# --- opening and escalation -------------------------------------------------------------------


def test_absent_monday_opens_a_case_with_a_blue_alert_and_its_deadlines() -> None:
    found, now = at(23, 8, 0), at(23, 8, 5)
    case, effects = transition(None, roll({23: A}, {23: found}), now, POLICY)

    assert case.status is CaseStatus.open
    assert case.run == (nov(23),)
    assert case.level is Level.blue
    [blue] = raised(effects)
    assert blue.level is Level.blue and blue.status is AlertStatus.raised
    assert blue.days == (nov(23),)
    [raise_] = of(effects, RaiseAlert)
    assert raise_.recipient is Role.head_teacher
    assert "蓝色预警" in raise_.rule
    [notice] = of(effects, Notify)
    assert (notice.role, notice.topic, notice.level, notice.alert_key) == (
        Role.head_teacher,
        "alert.raised",
        Level.blue,
        blue.key,
    )
    [contact] = deadlines(effects, DeadlineKind.contact)
    assert contact.due_at == found + timedelta(minutes=60)
    [report] = deadlines(effects, DeadlineKind.report)
    assert report.due_at == now + timedelta(hours=24)
    [verify] = deadlines(effects, DeadlineKind.verify)
    assert (verify.key, verify.due_at) == (blue.key, now + timedelta(hours=48))
    assert of(effects, CreateTask) == []


def test_friday_and_monday_absent_is_yellow_across_the_weekend() -> None:
    case, (first, second) = run(
        [(roll({20: A}), at(20, 8, 5)), (roll({20: A, 23: A}), at(23, 8, 5))]
    )

    assert [a.level for a in raised(first)] == [Level.blue]
    [yellow] = raised(second)  # blue is already live: only yellow is new
    assert yellow.level is Level.yellow
    assert yellow.days == (nov(20), nov(23))
    assert case.run == (nov(20), nov(23))
    assert of(second, RaiseAlert)[0].recipient is Role.vice_principal
    [task] = of(second, CreateTask)
    assert (task.kind, task.role) == (TaskKind.phone_verification, Role.vice_principal)
    # Monday's call is owed an hour after Monday's check.
    [contact] = deadlines(second, DeadlineKind.contact)
    assert contact.due_at == at(23, 9, 0)
    assert contact.key.startswith("2026-11-23:")


def test_three_days_is_red_with_a_home_visit_and_the_persuasion_procedure() -> None:
    _, (_, _, third) = run(
        [
            (roll({23: A}), at(23, 8, 5)),
            (roll({23: A, 24: A}), at(24, 8, 5)),
            (roll({23: A, 24: A, 25: A}), at(25, 8, 5)),
        ]
    )
    [red] = raised(third)
    assert red.level is Level.red
    assert red.days == (nov(23), nov(24), nov(25))
    assert of(third, RaiseAlert)[0].recipient is Role.principal
    [task] = of(third, CreateTask)
    assert (task.kind, task.role) == (TaskKind.home_visit, Role.vice_principal)
    assert "persuasion.opened" in [t.kind for t in of(third, Timeline)]


def test_first_seen_absent_three_days_at_once_raises_blue_yellow_red_in_order() -> None:
    case, effects = transition(None, roll({23: A, 24: A, 25: A}), at(25, 9), POLICY)

    assert case.level is Level.red
    raises = [i for i, e in enumerate(effects) if isinstance(e, RaiseAlert)]
    assert [a.level for a in raised(effects)] == [Level.blue, Level.yellow, Level.red]
    for n, i in enumerate(raises):
        r = effects[i]
        assert isinstance(r, RaiseAlert)
        end = raises[n + 1] if n + 1 < len(raises) else len(effects)
        notices = [e for e in effects[i:end] if isinstance(e, Notify)]
        assert [(x.role, x.topic, x.alert_key) for x in notices] == [
            (r.recipient, "alert.raised", r.alert.key)
        ]
    assert [r.recipient for r in of(effects, RaiseAlert)] == [
        Role.head_teacher,
        Role.vice_principal,
        Role.principal,
    ]
    # One contact (for the latest day) and one report, whatever the number of days.
    assert len(deadlines(effects, DeadlineKind.contact)) == 1
    assert len(deadlines(effects, DeadlineKind.report)) == 1
    assert len(deadlines(effects, DeadlineKind.verify)) == 3


# --- resolution ---------------------------------------------------------------------------------


def test_present_the_next_day_closes_the_case_as_returned() -> None:
    case, (opened, back) = run(
        [(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: P}), at(24, 8, 5))]
    )

    assert case.status is CaseStatus.closed
    assert case.close_reason is CloseReason.returned
    assert of(back, OpenDeadline) == [] and of(back, WithdrawAlert) == []
    # The blue alert was right: it stays.
    assert [a.status for a in case.alerts] == [AlertStatus.raised]
    # Pending deadlines of a closed case never act.
    for d in of(opened, OpenDeadline):
        assert transition(case, DeadlineDue(d.kind, d.key), d.due_at, POLICY) == (case, [])


def test_late_the_next_day_is_a_return_too() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: LATE}), at(24, 9))])
    assert case.close_reason is CloseReason.returned


def test_back_after_red_awaits_reenrollment_then_confirmation_closes() -> None:
    case, effects = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)

    assert case.status is CaseStatus.awaiting_reenrollment
    assert case.close_reason is None
    [reenroll] = deadlines(effects, DeadlineKind.reenroll)
    # Within one school week: five school days after Thursday 26th is Thursday 3 December.
    assert reenroll.due_at == datetime(2026, 12, 3, 18, 0, tzinfo=TZ)
    assert case.reenroll_due == reenroll.due_at
    [task] = of(effects, CreateTask)
    assert (task.kind, task.role) == (TaskKind.reenrollment, Role.head_teacher)
    assert [(n.role, n.topic) for n in of(effects, Notify)] == [(Role.principal, "case.returned")]
    assert of(effects, WithdrawAlert) == []

    # Overdue re-enrolment is escalated while it is still awaited ...
    _, overdue = transition(case, DeadlineDue(DeadlineKind.reenroll, reenroll.key), at(27), POLICY)
    assert {(n.role, n.topic) for n in of(overdue, Notify)} == {
        (Role.vice_principal, "reenroll.overdue"),
        (Role.principal, "reenroll.overdue"),
    }
    # ... confirmation closes the case, and the deadline then does nothing.
    closed, done = transition(case, ReenrollmentConfirmed(at(30)), at(30), POLICY)
    assert (closed.status, closed.close_reason) == (CaseStatus.closed, CloseReason.reenrolled)
    # Follow-up checks at 1, 4 and 8 weeks, for the head teacher.
    checks = of(done, CreateTask)
    assert [(t.kind, t.role) for t in checks] == [(TaskKind.follow_up, Role.head_teacher)] * 3
    assert [t.due_at - at(30) for t in checks] == [timedelta(weeks=w) for w in (1, 4, 8)]
    due = DeadlineDue(DeadlineKind.reenroll, reenroll.key)
    assert transition(closed, due, reenroll.due_at, POLICY) == (closed, [])


def test_a_correction_after_the_return_from_red_withdraws_red_and_owes_no_reenrollment() -> None:
    back, returned = transition(
        red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY
    )
    [reenroll] = deadlines(returned, DeadlineKind.reenroll)
    red = alert(back, Level.red)
    # Wednesday was entered wrongly: the student was there. Mon-Tue (yellow) stands.
    closed, effects = transition(back, roll({23: A, 24: A, 25: P, 26: P}), at(26, 10), POLICY)

    assert (closed.status, closed.close_reason) == (CaseStatus.closed, CloseReason.returned)
    assert [(w.key, w.recipient) for w in of(effects, WithdrawAlert)] == [(red.key, Role.principal)]
    assert [a.level for a in closed.live_alerts] == [Level.blue, Level.yellow]
    # The re-enrolment deadline of the closed case does nothing.
    due = DeadlineDue(DeadlineKind.reenroll, reenroll.key)
    assert transition(closed, due, reenroll.due_at, POLICY)[1] == []
    # A correction that leaves red standing changes nothing.
    same = transition(back, roll({23: A, 24: A, 25: A, 26: P, 20: P}), at(26, 10), POLICY)
    assert same == (back, [])


def test_a_corrected_return_continues_the_episode_instead_of_a_relapse() -> None:
    back, _ = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)
    # Thursday was absent after all: the same absence goes on, no second blue/yellow/red.
    case, effects = transition(back, roll({23: A, 24: A, 25: A, 26: A}), at(26, 10), POLICY)

    assert case.status is CaseStatus.open
    assert case.episode == back.episode
    assert case.run == (nov(23), nov(24), nov(25), nov(26))
    assert raised(effects) == []
    assert case.level is Level.red
    assert len(deadlines(effects, DeadlineKind.contact)) == 1  # Thursday's call


def test_a_return_corrected_then_made_again_owes_one_reenrollment() -> None:
    back, first = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)
    [owed] = deadlines(first, DeadlineKind.reenroll)
    case, _ = transition(back, roll({23: A, 24: A, 25: A, 26: A}), at(26, 10), POLICY)
    # Re-corrected the same day: the same re-enrolment is still owed, not a second one.
    again, effects = transition(case, roll({23: A, 24: A, 25: A, 26: P}), at(26, 11), POLICY)
    assert again.status is CaseStatus.awaiting_reenrollment
    assert deadlines(effects, DeadlineKind.reenroll) == [] and of(effects, CreateTask) == []
    _, overdue = transition(again, DeadlineDue(owed.kind, owed.key), owed.due_at, POLICY)
    assert {n.topic for n in of(overdue, Notify)} == {"reenroll.overdue"}
    # Back again a day later: a new deadline; the first one no longer acts (the fence).
    case, _ = transition(again, roll({23: A, 24: A, 25: A, 26: A}), at(27, 8), POLICY)
    later, effects = transition(case, roll({23: A, 24: A, 25: A, 26: A, 27: P}), at(27, 9), POLICY)
    [new] = deadlines(effects, DeadlineKind.reenroll)
    assert new.key != owed.key and new.due_at > owed.due_at
    assert transition(later, DeadlineDue(owed.kind, owed.key), owed.due_at, POLICY)[1] == []
    assert transition(later, DeadlineDue(new.kind, new.key), new.due_at, POLICY)[1] != []


def test_successive_corrections_are_each_recounted() -> None:
    # Mon-Thu absent (red); Wed corrected: Mon-Tue still make yellow; Tue corrected too:
    # no two consecutive days are left, yellow goes as well.
    case, _ = transition(None, roll({23: A, 24: A, 25: A, 26: A}), at(26, 9), POLICY)
    case, first = transition(case, roll({23: A, 24: A, 25: P, 26: A}), at(26, 10), POLICY)
    assert [w.key for w in of(first, WithdrawAlert)] == ["1:red:3"]
    assert case.level is Level.yellow
    yellow = alert(case, Level.yellow)
    case, second = transition(case, roll({23: A, 24: P, 25: P, 26: A}), at(26, 11), POLICY)
    assert [w.key for w in of(second, WithdrawAlert)] == [yellow.key]
    assert case.level is Level.blue and case.status is CaseStatus.open


def test_days_before_since_are_unknown_not_corrected() -> None:
    back, _ = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)
    # Weeks later the engine looks back only so far: the red's days are out of sight.
    later = AttendanceChanged(
        statuses={date(2027, 1, 4): P, date(2027, 1, 5): P},
        found_at={},
        calendar=CALENDAR,
        since=date(2026, 12, 1),
        timezone=TZ_NAME,
    )
    assert transition(back, later, datetime(2027, 1, 5, 9, tzinfo=TZ), POLICY) == (back, [])


def test_reenrollment_confirmed_on_an_open_case_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        transition(red_case(), ReenrollmentConfirmed(at(25, 12)), at(25, 12), POLICY)


def test_approved_leave_for_the_days_closes_as_excused_and_withdraws_the_alerts() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: A}), at(24, 8, 5))])
    excused, effects = transition(case, roll({23: L, 24: L}), at(24, 10), POLICY)

    assert (excused.status, excused.close_reason) == (CaseStatus.closed, CloseReason.excused)
    assert excused.live_alerts == ()
    withdrawn = {(w.key, w.recipient) for w in of(effects, WithdrawAlert)}
    assert withdrawn == {
        (alert(case, Level.blue).key, Role.head_teacher),
        (alert(case, Level.yellow).key, Role.vice_principal),
    }
    notices = {(n.alert_key, n.role) for n in of(effects, Notify) if n.topic == "alert.withdrawn"}
    assert notices == withdrawn


def test_correcting_day_two_to_present_withdraws_yellow_and_red_and_tells_their_recipients() -> (
    None
):
    case = red_case()
    corrected, effects = transition(case, roll({23: A, 24: P, 25: A}), at(25, 10), POLICY)

    assert corrected.status is CaseStatus.open
    assert corrected.run == (nov(25),)
    assert corrected.level is Level.blue
    yellow, red = alert(case, Level.yellow), alert(case, Level.red)
    assert [(w.key, w.recipient) for w in of(effects, WithdrawAlert)] == [
        (yellow.key, Role.vice_principal),
        (red.key, Role.principal),
    ]
    assert [(n.alert_key, n.role) for n in of(effects, Notify) if n.topic == "alert.withdrawn"] == [
        (yellow.key, Role.vice_principal),
        (red.key, Role.principal),
    ]
    assert raised(effects) == []
    assert {a.key: a.status for a in corrected.alerts}[red.key] is AlertStatus.withdrawn
    # A withdrawn alert's verification deadline does nothing.
    assert (
        transition(corrected, DeadlineDue(DeadlineKind.verify, red.key), at(27, 9), POLICY)[1] == []
    )


def test_correcting_the_second_of_two_days_closes_as_returned_without_the_yellow() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: A}), at(24, 8, 5))])
    closed, effects = transition(case, roll({23: A, 24: P}), at(24, 11), POLICY)

    assert (closed.status, closed.close_reason) == (CaseStatus.closed, CloseReason.returned)
    assert [w.key for w in of(effects, WithdrawAlert)] == [alert(case, Level.yellow).key]
    assert [a.level for a in closed.live_alerts] == [Level.blue]


def test_correcting_the_third_day_after_red_closes_as_returned_without_red() -> None:
    case = red_case()
    closed, effects = transition(case, roll({23: A, 24: A, 25: P}), at(25, 11), POLICY)

    # Monday and Tuesday stand (yellow); Wednesday was a mistake: no red, no re-enrolment.
    assert (closed.status, closed.close_reason) == (CaseStatus.closed, CloseReason.returned)
    assert [w.key for w in of(effects, WithdrawAlert)] == [alert(case, Level.red).key]
    assert deadlines(effects, DeadlineKind.reenroll) == []


def test_correcting_the_only_absent_day_closes_as_withdrawn() -> None:
    case, _ = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    closed, effects = transition(case, roll({23: P}), at(23, 9), POLICY)

    assert (closed.status, closed.close_reason) == (CaseStatus.closed, CloseReason.withdrawn)
    blue = alert(case, Level.blue)
    [w] = of(effects, WithdrawAlert)
    assert (w.key, w.recipient) == (blue.key, Role.head_teacher)
    [n] = of(effects, Notify)
    assert (n.topic, n.role, n.alert_key) == ("alert.withdrawn", Role.head_teacher, blue.key)
    assert closed.live_alerts == ()


def test_a_late_roll_showing_a_return_between_two_runs_keeps_the_alerts_it_supports() -> None:
    # Mon and Tue absent (yellow); Thursday absent is entered before Wednesday's roll, so
    # Wednesday is unknown and the run reads Mon-Tue-Thu (red). Wednesday then comes in
    # present: red is no longer supported, but Mon-Tue still is (yellow stays).
    case, _ = run(
        [
            (roll({23: A}), at(23, 8, 5)),
            (roll({23: A, 24: A}), at(24, 8, 5)),
            (roll({23: A, 24: A, 26: A}), at(26, 8, 5)),
        ]
    )
    assert case.level is Level.red
    after, effects = transition(case, roll({23: A, 24: A, 25: P, 26: A}), at(26, 9), POLICY)
    assert [w.key for w in of(effects, WithdrawAlert)] == [alert(case, Level.red).key]
    assert after.level is Level.yellow
    assert after.run == (nov(26),)


# --- contact, report, verification --------------------------------------------------------------


def test_contact_not_reached_owes_a_new_attempt_and_fences_the_old_deadline() -> None:
    case, opened = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    [first] = deadlines(opened, DeadlineKind.contact)
    case, effects = transition(
        case, ContactLogged(reached=False, at=at(23, 8, 40)), at(23, 8, 40), POLICY
    )

    [second] = deadlines(effects, DeadlineKind.contact)
    assert second.key != first.key
    assert second.due_at == at(23, 9, 40)
    assert not case.contact_done
    # The first attempt's deadline comes due: it was replaced, so nothing happens.
    assert transition(case, DeadlineDue(DeadlineKind.contact, first.key), first.due_at, POLICY) == (
        case,
        [],
    )
    # The second one, still owed, tells the vice principal.
    _, overdue = transition(
        case, DeadlineDue(DeadlineKind.contact, second.key), second.due_at, POLICY
    )
    assert [(n.role, n.topic) for n in of(overdue, Notify)] == [
        (Role.vice_principal, "contact.overdue")
    ]


def test_contact_deadline_after_a_reached_contact_does_nothing() -> None:
    case, opened = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    [contact] = deadlines(opened, DeadlineKind.contact)
    case, _ = transition(case, ContactLogged(reached=True, at=at(23, 8, 30)), at(23, 8, 30), POLICY)

    assert case.contact_done
    due = DeadlineDue(DeadlineKind.contact, contact.key)
    assert transition(case, due, contact.due_at, POLICY) == (case, [])


def test_report_returned_owes_a_new_report_with_a_new_deadline() -> None:
    case, opened = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    [first] = deadlines(opened, DeadlineKind.report)
    case, submitted = transition(case, ReportSubmitted(at(23, 15)), at(23, 15), POLICY)
    assert [(n.role, n.topic) for n in of(submitted, Notify)] == [
        (Role.academic_affairs, "report.submitted")
    ]
    # Submitted in time: the first deadline does nothing.
    assert (
        transition(case, DeadlineDue(DeadlineKind.report, first.key), first.due_at, POLICY)[1] == []
    )

    case, returned = transition(case, ReportDecided(False, at(24, 10)), at(24, 10), POLICY)
    [second] = deadlines(returned, DeadlineKind.report)
    assert second.key != first.key
    assert second.due_at == at(25, 10)
    assert [(n.role, n.topic) for n in of(returned, Notify)] == [
        (Role.head_teacher, "report.returned")
    ]
    _, overdue = transition(
        case, DeadlineDue(DeadlineKind.report, second.key), second.due_at, POLICY
    )
    assert {(n.role, n.topic) for n in of(overdue, Notify)} == {
        (Role.academic_affairs, "report.overdue"),
        (Role.vice_principal, "report.overdue"),
    }

    case, _ = transition(case, ReportSubmitted(at(24, 16)), at(24, 16), POLICY)
    case, accepted = transition(case, ReportDecided(True, at(24, 17)), at(24, 17), POLICY)
    assert deadlines(accepted, DeadlineKind.report) == []
    with pytest.raises(InvalidTransition):
        transition(case, ReportDecided(True, at(24, 18)), at(24, 18), POLICY)
    with pytest.raises(InvalidTransition):
        transition(case, ReportSubmitted(at(24, 18)), at(24, 18), POLICY)


def test_report_overdue_when_never_submitted() -> None:
    case, opened = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    [report] = deadlines(opened, DeadlineKind.report)
    _, overdue = transition(
        case, DeadlineDue(DeadlineKind.report, report.key), report.due_at, POLICY
    )
    assert {n.role for n in of(overdue, Notify)} == {Role.academic_affairs, Role.vice_principal}


def test_verify_deadline_escalates_only_an_unverified_alert() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: A}), at(24, 8, 5))])
    blue, yellow = alert(case, Level.blue), alert(case, Level.yellow)
    case, effects = transition(case, AlertVerified(blue.key, at(24, 9)), at(24, 9), POLICY)
    assert {a.key: a.status for a in case.alerts}[blue.key] is AlertStatus.verified
    assert len(of(effects, Timeline)) == 1

    verified_due = DeadlineDue(DeadlineKind.verify, blue.key)
    assert transition(case, verified_due, blue.verify_due, POLICY) == (case, [])
    _, escalated = transition(
        case, DeadlineDue(DeadlineKind.verify, yellow.key), yellow.verify_due, POLICY
    )
    [n] = of(escalated, Notify)
    assert (n.role, n.topic, n.level, n.alert_key) == (
        Role.principal,  # the next level up from the vice principal
        "alert.escalated",
        Level.yellow,
        yellow.key,
    )


def test_an_unverified_blue_goes_to_the_vice_principal_and_red_to_the_county() -> None:
    case = red_case()
    for level, up in ((Level.blue, Role.vice_principal), (Level.red, Role.county_admin)):
        a = alert(case, level)
        _, effects = transition(case, DeadlineDue(DeadlineKind.verify, a.key), a.verify_due, POLICY)
        assert [n.role for n in of(effects, Notify)] == [up]


# --- bad input ----------------------------------------------------------------------------------


def test_new_casework_on_a_closed_case_is_refused_but_verification_is_not() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: P}), at(24, 8, 5))])
    assert case.status is CaseStatus.closed
    # The alert was raised and is still to be verified (核查) after the student is back.
    verified, effects = transition(
        case, AlertVerified(case.alerts[0].key, at(24, 9)), at(24, 9), POLICY
    )
    assert verified.status is CaseStatus.closed
    assert verified.alerts[0].status is AlertStatus.verified
    assert any(isinstance(e, VerifyAlert) for e in effects)
    with pytest.raises(InvalidTransition):
        transition(None, AlertVerified(case.alerts[0].key, at(24, 9)), at(24, 9), POLICY)
    for event in (
        ContactLogged(reached=True, at=at(24, 9)),
        ReportSubmitted(at(24, 9)),
        ReportDecided(True, at(24, 9)),  # no report was submitted
        ReportDecided(False, at(24, 9)),
        ReenrollmentConfirmed(at(24, 9)),
    ):
        with pytest.raises(InvalidTransition):
            transition(case, event, at(24, 9), POLICY)
        with pytest.raises(InvalidTransition):
            transition(None, event, at(24, 9), POLICY)


def test_verifying_twice_or_an_unknown_alert_is_refused() -> None:
    case, _ = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    key = case.alerts[0].key
    case, _ = transition(case, AlertVerified(key, at(23, 10)), at(23, 10), POLICY)
    with pytest.raises(InvalidTransition):
        transition(case, AlertVerified(key, at(23, 11)), at(23, 11), POLICY)
    with pytest.raises(InvalidTransition):
        transition(case, AlertVerified("9:red:9", at(23, 11)), at(23, 11), POLICY)


def test_verifying_a_withdrawn_alert_is_refused() -> None:
    case = red_case()
    corrected, _ = transition(case, roll({23: A, 24: P, 25: A}), at(25, 10), POLICY)
    with pytest.raises(InvalidTransition):
        transition(
            corrected, AlertVerified(alert(case, Level.red).key, at(25, 11)), at(25, 11), POLICY
        )


# --- policy, calendar, relapse ------------------------------------------------------------------


def test_a_case_keeps_the_policy_it_opened_with() -> None:
    opened_with = Policy(contact_minutes=30, yellow_days=2)
    later = Policy(contact_minutes=90, yellow_days=5, yellow_to=Role.principal)
    case, first = transition(None, roll({23: A}, {23: at(23)}), at(23, 8, 5), opened_with)
    assert deadlines(first, DeadlineKind.contact)[0].due_at == at(23, 8, 30)

    case, second = transition(case, roll({23: A, 24: A}, {24: at(24)}), at(24, 8, 5), later)
    assert case.policy == opened_with
    [yellow] = of(second, RaiseAlert)
    assert (yellow.alert.level, yellow.recipient) == (Level.yellow, Role.vice_principal)
    assert deadlines(second, DeadlineKind.contact)[0].due_at == at(24, 8, 30)


def test_a_new_case_takes_the_policy_of_its_day() -> None:
    case, _ = run([(roll({23: A}), at(23, 8, 5)), (roll({23: A, 24: P}), at(24, 8, 5))])
    stricter = Policy(report_hours=12)
    new, effects = transition(case, roll({23: A, 24: P, 25: A}), at(25, 8, 5), stricter)
    assert new.status is CaseStatus.open and new.policy == stricter
    assert deadlines(effects, DeadlineKind.report)[0].due_at == at(25, 20, 5)


def test_configured_thresholds_drive_the_levels() -> None:
    policy = Policy(yellow_days=3, red_days=5, verify_hours=24)
    case, effects = transition(None, roll({23: A, 24: A, 25: A}), at(25, 9), policy)
    assert [a.level for a in raised(effects)] == [Level.blue, Level.yellow]
    assert [a.days for a in raised(effects)][1] == (nov(23), nov(24), nov(25))
    assert {d.due_at for d in deadlines(effects, DeadlineKind.verify)} == {at(26, 9)}
    yellow = alert(case, Level.yellow)
    _, escalated = transition(case, DeadlineDue(DeadlineKind.verify, yellow.key), at(26, 9), policy)
    assert "24" in of(escalated, Notify)[0].title


def test_not_recorded_days_neither_count_nor_break_a_run() -> None:
    case, _ = transition(None, roll({23: A, 24: NR, 25: A}), at(25, 9), POLICY)
    assert case.run == (nov(23), nov(25))
    assert case.level is Level.yellow  # two absent days, not three

    case, _ = transition(None, roll({23: A, 24: NR}), at(24, 9), POLICY)
    assert case.run == (nov(23),) and case.level is Level.blue


def test_non_school_days_are_skipped() -> None:
    closure = SchoolCalendar(terms=CALENDAR.terms, closures=frozenset({nov(24)}))
    event = AttendanceChanged(
        statuses={nov(23): A, nov(24): P, nov(25): A},  # a mark on a closure day is ignored
        found_at={nov(23): at(23), nov(25): at(25)},
        calendar=closure,
        since=SINCE,
        timezone=TZ_NAME,
    )
    case, _ = transition(None, event, at(25, 9), POLICY)
    assert case.run == (nov(23), nov(25)) and case.level is Level.yellow


def test_an_absence_older_than_a_present_day_opens_no_case() -> None:
    case, effects = transition(None, roll({23: A, 24: P}), at(24, 9), POLICY)
    assert effects == []
    assert case.status is CaseStatus.closed  # no open case for the student
    case, effects = transition(None, roll({23: P, 24: L}), at(24, 9), POLICY)
    assert (effects, case.status) == ([], CaseStatus.closed)


def test_relapse_after_a_return_from_red_starts_a_new_episode() -> None:
    case, _ = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)
    assert case.status is CaseStatus.awaiting_reenrollment
    old_keys = {a.key for a in case.alerts}

    statuses = {23: A, 24: A, 25: A, 26: P, 27: A}
    relapse, effects = transition(case, roll(statuses), at(27, 8, 5), POLICY)
    assert relapse.status is CaseStatus.open
    assert relapse.episode == case.episode + 1
    assert relapse.run == (nov(27),)
    [blue] = raised(effects)
    assert blue.level is Level.blue and blue.episode == relapse.episode
    assert blue.key not in old_keys
    assert "case.relapse" in [t.kind for t in of(effects, Timeline)]
    [contact] = deadlines(effects, DeadlineKind.contact)
    assert contact.due_at == at(27, 9)
    assert relapse.level is Level.blue  # the first episode's alerts do not count any more

    statuses[30] = A  # Friday and Monday
    relapse, effects = transition(relapse, roll(statuses), at(30, 8, 5), POLICY)
    assert [a.level for a in raised(effects)] == [Level.yellow]
    assert {a.episode for a in relapse.live_alerts} == {relapse.episode}


def test_relapse_before_reenrolment_asks_for_a_new_report_and_drops_the_reenrolment_task() -> None:
    case, _ = transition(red_case(), roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5), POLICY)
    relapse, effects = transition(
        case, roll({23: A, 24: A, 25: A, 26: P, 27: A}), at(27, 8, 5), POLICY
    )
    assert relapse.report is ReportStatus.due
    assert relapse.report_round == case.report_round + 1
    [report] = deadlines(effects, DeadlineKind.report)
    assert report.key == str(relapse.report_round)
    assert report.due_at == at(27, 8, 5) + timedelta(hours=POLICY.report_hours)
    assert [c.kind for c in of(effects, CancelTasks)] == [TaskKind.reenrollment]


def _reenrolled() -> Case:
    """Red on 16-18 November, back on the 19th, 复学 confirmed that morning."""
    case, _ = transition(None, roll({16: A, 17: A, 18: A}), at(18, 9), POLICY)
    case, _ = transition(case, roll({16: A, 17: A, 18: A, 19: P}), at(19, 9), POLICY)
    case, _ = transition(case, ReenrollmentConfirmed(at(19, 10)), at(19, 10), POLICY)
    assert case.close_reason is CloseReason.reenrolled and case.closed_at == at(19, 10)
    return case


def test_absence_within_the_follow_up_weeks_reopens_the_reenrolled_case() -> None:
    closed = _reenrolled()
    statuses = {16: A, 17: A, 18: A, 19: P, 20: P, 23: A}
    case, effects = transition(closed, roll(statuses), at(23, 8, 5), POLICY)
    assert reopens(closed, case)
    assert case.status is CaseStatus.open and case.close_reason is None
    assert case.episode == closed.episode + 1 and case.version == closed.version + 1
    assert [a.level for a in raised(effects)] == [Level.blue]
    assert case.report is ReportStatus.due
    assert [d.key for d in deadlines(effects, DeadlineKind.report)] == [str(case.report_round)]
    assert [c.kind for c in of(effects, CancelTasks)] == [TaskKind.follow_up]
    assert "case.relapse" in [t.kind for t in of(effects, Timeline)]


def test_absence_after_the_follow_up_weeks_opens_a_case_of_its_own() -> None:
    closed = _reenrolled()
    later = at(19, 10) + timedelta(weeks=POLICY.relapse_weeks, days=1)
    statuses = {16: A, 17: A, 18: A, 19: P, 20: P, 23: A}
    case, effects = transition(closed, roll(statuses), later, POLICY)
    assert not reopens(closed, case)
    assert case.episode == 1 and case.status is CaseStatus.open
    assert "case.opened" in [t.kind for t in of(effects, Timeline)]


def test_a_roll_correction_of_the_closed_episode_does_not_reopen_it() -> None:
    closed = _reenrolled()
    case, effects = transition(closed, roll({16: A, 17: A, 18: A}), at(23, 9), POLICY)
    assert case == closed and effects == []


def transferred(day: int, hour: int) -> TransferredOut:
    return TransferredOut("县第二中学", at(day, hour), nov(day))


def test_transfer_closes_the_case_and_drops_its_open_tasks() -> None:
    case, effects = transition(red_case(), transferred(26, 9), at(26, 9), POLICY)
    assert case.status is CaseStatus.closed and case.close_reason is CloseReason.transferred
    assert case.closed_at == at(26, 9)
    assert {c.kind for c in of(effects, CancelTasks)} == {
        TaskKind.phone_verification,
        TaskKind.home_visit,
        TaskKind.reenrollment,
        TaskKind.follow_up,
    }
    assert "县第二中学" in of(effects, Timeline)[0].text
    assert of(effects, StrikeOffNotices) == [
        StrikeOffNotices("已办理转学手续,转入县第二中学", nov(26))
    ]
    with pytest.raises(InvalidTransition):
        transition(None, transferred(26, 10), at(26, 10), POLICY)


def test_transfer_of_a_reenrolled_student_ends_the_follow_ups_by_the_machine() -> None:
    """The follow-up checks after a 复学 and a notice still in force are ended by the case
    machine's effects, written by the engine like any other (not by the transfer's own
    writes); the closed case itself stays as it was."""
    closed = _reenrolled()
    case, effects = transition(closed, transferred(23, 12), at(23, 12), POLICY)
    assert case == closed
    assert effects == [
        CancelTasks(TaskKind.follow_up, "学生已转学至县第二中学"),
        StrikeOffNotices("已办理转学手续,转入县第二中学", nov(23)),
    ]


def test_deadline_for_no_case_does_nothing() -> None:
    case, effects = transition(None, DeadlineDue(DeadlineKind.contact, "x"), at(23), POLICY)
    assert effects == [] and case.status is CaseStatus.closed


def test_every_real_change_bumps_the_version_and_a_no_op_does_not() -> None:
    case, _ = transition(None, roll({23: A}), at(23, 8, 5), POLICY)
    assert case.version == 0
    same, effects = transition(case, roll({23: A}), at(23, 9), POLICY)
    assert (same, effects) == (case, [])
    case2, _ = transition(case, ContactLogged(reached=True, at=at(23, 9)), at(23, 9), POLICY)
    assert case2.version == 1


# --- the diagram --------------------------------------------------------------------------------


def _state(case: Case | None) -> str:
    return "none" if case is None else case.status.value


def _tour() -> set[tuple[str, str, str, bool]]:
    """Drive the machine through every kind of step; record (from, event, to, acted)."""
    seen: set[tuple[str, str, str, bool]] = set()

    last: list[Effect] = []

    def step(case: Case | None, event: Event, now: datetime) -> Case:
        new, effects = transition(case, event, now, POLICY)
        last[:] = effects
        src = (
            "none"
            if case is None
            or (
                case.status is CaseStatus.closed
                and isinstance(event, AttendanceChanged)
                and not reopens(case, new)
                # closed and still closed, but acted: a correction of the closed case itself
                and not (new.status is CaseStatus.closed and effects)
            )
            else _state(case)
        )
        dst = "none" if src == "none" and new.status is CaseStatus.closed else _state(new)
        seen.add((src, type(event).__name__, dst, bool(effects)))
        return new

    # No case, then a case through blue and yellow with every staff action.
    c = step(None, roll({23: P}), at(23, 9))
    c = step(None, roll({23: A}), at(23, 8, 5))
    c = step(c, roll({23: A, 24: A}), at(24, 8, 5))
    c = step(c, ContactLogged(reached=False, at=at(24, 9)), at(24, 9))
    c = step(c, DeadlineDue(DeadlineKind.contact, f"2026-11-24:{c.contact_attempt}"), at(24, 11))
    c = step(c, ReportSubmitted(at(24, 12)), at(24, 12))
    c = step(c, ReportDecided(False, at(24, 13)), at(24, 13))
    c = step(c, AlertVerified(c.alerts[0].key, at(24, 14)), at(24, 14))
    # Red, back, a relapse, back again, re-enrolment confirmed.
    c = step(c, roll({23: A, 24: A, 25: A}), at(25, 8, 5))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P}), at(26, 8, 5))
    [reenroll] = deadlines(last, DeadlineKind.reenroll)
    c = step(c, AlertVerified(c.alerts[1].key, at(26, 9)), at(26, 9))
    c = step(c, DeadlineDue(reenroll.kind, reenroll.key), reenroll.due_at)
    c = step(c, roll({23: A, 24: A, 25: A, 26: P}), reenroll.due_at)
    c = step(c, roll({23: A, 24: A, 25: A, 26: P, 27: A, 30: A}), at(30, 8, 5))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P, 27: A, 30: A}), at(30, 8, 6))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P, 27: A}, {}), at(30, 8, 7))
    assert c.status is CaseStatus.open
    c = step(c, roll({20: A, 23: A, 24: A, 25: A, 26: P, 27: A, 30: P}), at(30, 9))
    assert c.status is CaseStatus.closed
    # After red: back, then re-enrolment confirmed; stale deadlines of the closed case.
    c = step(None, roll({23: A, 24: A, 25: A}), at(25, 9))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P}), at(26, 9))
    c = step(c, ReenrollmentConfirmed(at(30, 10)), at(30, 10))
    c = step(c, DeadlineDue(DeadlineKind.verify, c.alerts[0].key), at(30, 11))
    # After red and back, a correction takes the red away.
    c = step(None, roll({23: A, 24: A, 25: A}), at(25, 9))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P}), at(26, 9))
    c = step(c, roll({23: A, 24: A, 25: P, 26: P}), at(26, 10))
    # A closed case and a new absence: a new case.
    c = step(c, roll({23: A, 24: A, 25: A, 26: P, 27: A}), at(27, 9))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P, 27: P}), at(27, 10))
    # Back the next day: the alert is verified and the report accepted after the case closed.
    c = step(None, roll({23: A}), at(23, 8, 5))
    c = step(c, ReportSubmitted(at(23, 12)), at(23, 12))
    c = step(c, roll({23: A, 24: P}), at(24, 8, 5))
    assert c.status is CaseStatus.closed
    c = step(c, AlertVerified(c.alerts[0].key, at(24, 9)), at(24, 9))
    c = step(c, ReportDecided(True, at(24, 10)), at(24, 10))
    # The closed case's day corrected afterwards: its alert is withdrawn, the case stays shut.
    c = step(c, roll({23: P, 24: P}), at(24, 11))
    assert c.status is CaseStatus.closed and not c.live_alerts
    # Re-enrolled, absent again within the follow-up weeks (the case reopens), transferred.
    c = step(None, roll({16: A, 17: A, 18: A}), at(18, 9))
    c = step(c, roll({16: A, 17: A, 18: A, 19: P}), at(19, 9))
    c = step(c, ReenrollmentConfirmed(at(19, 10)), at(19, 10))
    c = step(c, roll({16: A, 17: A, 18: A, 19: P, 20: P, 23: A}), at(23, 9))
    assert c.status is CaseStatus.open and c.episode == 2
    c = step(c, transferred(23, 12), at(23, 12))
    assert c.close_reason is CloseReason.transferred
    # Back after red, then transferred before re-enrolment was confirmed.
    c = step(None, roll({23: A, 24: A, 25: A}), at(25, 9))
    c = step(c, roll({23: A, 24: A, 25: A, 26: P}), at(26, 9))
    c = step(c, transferred(26, 12), at(26, 12))
    # Re-enrolled, then transferred during the follow-up weeks: the case stays closed.
    c = step(None, roll({16: A, 17: A, 18: A}), at(18, 9))
    c = step(c, roll({16: A, 17: A, 18: A, 19: P}), at(19, 9))
    c = step(c, ReenrollmentConfirmed(at(19, 10)), at(19, 10))
    c = step(c, transferred(23, 12), at(23, 12))
    assert c.close_reason is CloseReason.reenrolled
    return seen


def _diagram_document() -> str:
    return (
        "# The absence case: state machine\n\n"
        "Generated from `TRANSITIONS` in `app/domain/cases.py` by "
        "`tests/alerts/test_cases_domain.py::test_state_machine_diagram_is_current`; "
        "do not edit by hand (delete the file, or set `UPDATE_DOCS=1`, and run the test to "
        "regenerate it).\n\n"
        "```mermaid\n" + mermaid() + "\n```\n"
    )


def test_state_machine_diagram_is_current() -> None:
    """docs/case-state-machine.md is the Mermaid diagram of ``TRANSITIONS``.

    The test writes the file when it is missing (or when ``UPDATE_DOCS=1``), then asserts that
    the file on disk is exactly what the table generates: a committed diagram that has drifted
    from the table fails here instead of being silently overwritten.

    It also checks the table against the machine: a tour drives ``transition`` through every
    kind of step, and every (from, event) pair the handlers accept must be a row of the table,
    every step that changes state must match a row's (from, event, to) — a step that leaves the
    state as it was and does nothing needs no row — and every row must be reached by the tour.
    """
    expected = _diagram_document()
    if not DOC.exists() or os.environ.get("UPDATE_DOCS") == "1":
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, (
        f"{DOC.relative_to(ROOT)} differs from TRANSITIONS: rerun with UPDATE_DOCS=1"
    )

    rows = {(src, event, dst) for src, event, dst, _ in TRANSITIONS}
    pairs = {(src, event) for src, event, _, _ in TRANSITIONS}
    seen = _tour()
    assert {(src, event) for src, event, _, _ in seen} - pairs == set()
    unlisted = {
        (src, event, dst)
        for src, event, dst, acted in seen
        if (src, event, dst) not in rows and (src != dst or acted)
    }
    assert unlisted == set()
    assert rows - {(src, event, dst) for src, event, dst, _ in seen} == set()
    # Every row is an edge, and every label parses (Mermaid ends a label at ':' or ';').
    edges = mermaid().splitlines()[2:-1]
    assert len(edges) == len(TRANSITIONS)
    for (src, event, dst, _), line in zip(TRANSITIONS, edges, strict=True):
        head, label = line.strip().split(": ", 1)
        assert head == f"{src} --> {dst}"
        assert label.startswith(event) and ":" not in label and ";" not in label
