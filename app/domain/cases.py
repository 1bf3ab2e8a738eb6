"""The absence case: one state machine per student, pure.

``transition(case, event, now) -> (case', effects)``. Effects are data — open a deadline,
raise or withdraw an alert, notify a role, create or cancel tasks, write a timeline entry,
strike off the case's return notices (a transfer) — that the engine writes in the same
transaction as the new case (an outbox: nothing is sent that was not stored). Nothing here
reads the clock or touches storage.

The rules (as a school's 控辍保学自查报告 describes them; every threshold is in ``Policy``):

* a case opens at a student's unexplained absence; at most one open case per student;
* the guardian is phoned within ``contact_minutes`` of the check that found the absence; a
  call that does not reach anyone makes another attempt due;
* a written report goes to 教务处 within ``report_hours``; 教务处 accepts or returns it;
* levels count *consecutive unexplained absent school days*: blue on day 1 (head teacher),
  yellow on day ``yellow_days`` (vice principal, who also gets a phone-verification task),
  red from day ``red_days`` (principal; the joint persuasion procedure opens with a
  home-visit task for the vice principal's work group). Levels are raised in order: a student
  found absent for three days at once gets blue, yellow and red, each with its notice;
* inaction escalates: contact overdue → vice principal; report overdue → 教务处 and vice
  principal; an alert not verified (核查) within ``verify_hours`` → the next level up;
* the student back at school closes the case as returned (after red, re-enrolment is to be
  confirmed within ``reenroll_school_days``); approved leave for the days closes it as
  excused; a correction of the roll withdraws the alerts it no longer supports and tells
  whoever received them;
* a deadline carries the obligation it was made for (its key); when it comes due for an
  obligation that has since been met or replaced, it does nothing (the fence).

Days not recorded (roll not taken) neither count nor break a run: the missing roll is
chased separately. Absences older than a day the student was seen at school start no case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.domain.attendance import DayStatus
from app.domain.calendar import SchoolCalendar
from app.domain.roles import Role


class Level(StrEnum):
    blue = "blue"
    yellow = "yellow"
    red = "red"


LEVELS = (Level.blue, Level.yellow, Level.red)
LEVEL_LABELS = {Level.blue: "蓝色预警", Level.yellow: "黄色预警", Level.red: "红色预警"}


class CaseStatus(StrEnum):
    open = "open"
    awaiting_reenrollment = "awaiting_reenrollment"  # back after red: 复学 to be confirmed
    closed = "closed"


class CloseReason(StrEnum):
    returned = "returned"  # 返校
    excused = "excused"  # leave approved for the days
    withdrawn = "withdrawn"  # the roll was corrected: no unexplained absence left
    reenrolled = "reenrolled"  # 复学 confirmed after a red alert
    transferred = "transferred"  # 转学 approved: the student left for another school


class AlertStatus(StrEnum):
    raised = "raised"
    verified = "verified"  # 核查 done
    withdrawn = "withdrawn"


class ReportStatus(StrEnum):
    due = "due"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"


class DeadlineKind(StrEnum):
    contact = "contact"
    report = "report"
    verify = "verify"
    reenroll = "reenroll"


class TaskKind(StrEnum):
    phone_verification = "phone_verification"  # yellow: the vice principal phones the family
    home_visit = "home_visit"  # red: the work group visits the home (联合劝返)
    reenrollment = "reenrollment"  # after red: confirm 复学
    follow_up = "follow_up"  # after 复学: checks at 1, 4 and 8 weeks (巩固)


TASK_LABELS = {
    TaskKind.phone_verification: "电话核实",
    TaskKind.home_visit: "联合家访劝返",
    TaskKind.reenrollment: "复学确认",
    TaskKind.follow_up: "复学后跟踪回访",
}


class TaskStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"  # no longer applies: a relapse, a transfer


TASK_STATUS_LABELS: dict[TaskStatus, str] = {
    TaskStatus.open: "待办",
    TaskStatus.done: "已完成",
    TaskStatus.cancelled: "已取消",
}


@dataclass(frozen=True, slots=True)
class Policy:
    """Every threshold and recipient; a case keeps the policy it opened with."""

    contact_minutes: int = 60
    recontact_minutes: int = 60
    report_hours: int = 24
    yellow_days: int = 2
    red_days: int = 3
    verify_hours: int = 48
    reenroll_school_days: int = 5
    # Absent again within this many weeks of a confirmed 复学: the case reopens as a relapse
    # (the follow-up period of 1, 4 and 8 weeks).
    relapse_weeks: int = 8
    # A case task still open this long after it fell due goes up the line.
    task_overdue_hours: int = 48
    blue_to: Role = Role.head_teacher
    yellow_to: Role = Role.vice_principal
    red_to: Role = Role.principal
    # Who is told when an alert of a level goes unverified.
    blue_escalates_to: Role = Role.vice_principal
    yellow_escalates_to: Role = Role.principal
    red_escalates_to: Role = Role.county_admin

    def days_for(self, level: Level) -> int:
        return {Level.blue: 1, Level.yellow: self.yellow_days, Level.red: self.red_days}[level]

    def recipient(self, level: Level) -> Role:
        return {Level.blue: self.blue_to, Level.yellow: self.yellow_to, Level.red: self.red_to}[
            level
        ]

    def escalation(self, level: Level) -> Role:
        return {
            Level.blue: self.blue_escalates_to,
            Level.yellow: self.yellow_escalates_to,
            Level.red: self.red_escalates_to,
        }[level]

    def level_for(self, days: int) -> Level | None:
        reached = [lv for lv in LEVELS if days >= self.days_for(lv)]
        return reached[-1] if reached else None


@dataclass(frozen=True, slots=True)
class AlertState:
    level: Level
    episode: int
    seq: int  # position among the case's alerts: a level withdrawn and raised again differs
    status: AlertStatus
    raised_at: datetime
    days: tuple[date, ...]
    verify_due: datetime

    @property
    def key(self) -> str:
        return f"{self.episode}:{self.level.value}:{self.seq}"


@dataclass(frozen=True, slots=True)
class Case:
    student_id: int
    policy: Policy
    status: CaseStatus = CaseStatus.open
    opened_at: datetime | None = None
    episode: int = 1  # a relapse after return starts a new episode with its own alerts
    run: tuple[date, ...] = ()  # the consecutive unexplained absent school days, oldest first
    alerts: tuple[AlertState, ...] = ()
    contact_day: date | None = None  # the absent day whose call is owed
    contact_attempt: int = 0
    contact_done: bool = True
    report: ReportStatus | None = None
    report_round: int = 0
    reenroll_due: datetime | None = None
    close_reason: CloseReason | None = None
    closed_at: datetime | None = None
    version: int = 0

    @property
    def live_alerts(self) -> tuple[AlertState, ...]:
        return tuple(
            a
            for a in self.alerts
            if a.episode == self.episode and a.status != AlertStatus.withdrawn
        )

    @property
    def level(self) -> Level | None:
        live = [a.level for a in self.live_alerts]
        return max(live, key=LEVELS.index) if live else None


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendanceChanged:
    """The student's recorded day statuses from ``since`` on (school days only matter), and
    when each absence was found (the check's time, for the 1-hour call). Runs are counted
    from ``since`` on; a case whose days reach back before it is not recounted."""

    statuses: Mapping[date, DayStatus]
    found_at: Mapping[date, datetime]
    calendar: SchoolCalendar
    since: date
    timezone: str


@dataclass(frozen=True, slots=True)
class ContactLogged:
    reached: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class ReportSubmitted:
    at: datetime


@dataclass(frozen=True, slots=True)
class ReportDecided:
    accepted: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class AlertVerified:
    key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReenrollmentConfirmed:
    at: datetime


@dataclass(frozen=True, slots=True)
class DeadlineDue:
    kind: DeadlineKind
    key: str


@dataclass(frozen=True, slots=True)
class TransferredOut:
    """The student's 转学 was approved: they are expected at another school, not this one.
    ``on`` is the sending school's day of it (the day its return notices are struck off)."""

    to_school: str
    at: datetime
    on: date


Event = (
    AttendanceChanged
    | ContactLogged
    | ReportSubmitted
    | ReportDecided
    | AlertVerified
    | ReenrollmentConfirmed
    | DeadlineDue
    | TransferredOut
)


# --- effects --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenDeadline:
    kind: DeadlineKind
    key: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class RaiseAlert:
    alert: AlertState
    rule: str
    recipient: Role


@dataclass(frozen=True, slots=True)
class WithdrawAlert:
    key: str
    reason: str
    recipient: Role


@dataclass(frozen=True, slots=True)
class VerifyAlert:
    key: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Notify:
    """A notice to everyone holding ``role`` for the student (their class or school)."""

    role: Role
    topic: str  # alert.raised, alert.escalated, alert.withdrawn, contact.overdue, …
    title: str
    level: Level | None = None
    alert_key: str | None = None


@dataclass(frozen=True, slots=True)
class CreateTask:
    kind: TaskKind
    role: Role
    due_at: datetime


class TimelineKind(StrEnum):
    """Every kind of timeline entry: the case machine's, the engine's own (a late deadline, an
    overdue task) and casework's and return notices' entries; ``case.<CloseReason>`` closes."""

    alert_raised = "alert.raised"
    alert_verified = "alert.verified"
    alert_escalated = "alert.escalated"
    persuasion_opened = "persuasion.opened"
    case_opened = "case.opened"
    case_corrected = "case.corrected"
    case_relapse = "case.relapse"
    case_returned = "case.returned"
    case_excused = "case.excused"
    case_withdrawn = "case.withdrawn"
    case_reenrolled = "case.reenrolled"
    case_transferred = "case.transferred"
    contact_reached = "contact.reached"
    contact_unreached = "contact.unreached"
    contact_overdue = "contact.overdue"
    report_submitted = "report.submitted"
    report_accepted = "report.accepted"
    report_returned = "report.returned"
    report_overdue = "report.overdue"
    reenroll_overdue = "reenroll.overdue"
    deadline_late = "deadline.late"
    task_overdue = "task.overdue"
    home_visit_recorded = "home_visit.recorded"
    talk_recorded = "talk.recorded"
    plan_updated = "plan.updated"
    return_notice_issued = "return_notice.issued"
    return_notice_delivered = "return_notice.delivered"
    return_notice_escalated = "return_notice.escalated"
    return_notice_struck_off = "return_notice.struck_off"
    return_notice_complied = "return_notice.complied"
    return_notice_dropout = "return_notice.dropout"
    # The student's 控辍 status (app/domain/dropout_status.py) began or ended.
    student_suspected_dropout = "student.suspected_dropout"
    student_dropout = "student.dropout"
    student_in_school = "student.in_school"
    # The township's side (app/casework/township.py): it acknowledged the report, recorded an
    # action (责令限期改正, 行政处罚, ...), or the report was raised to the county.
    township_acknowledged = "township.acknowledged"
    township_action = "township.action_recorded"
    township_raised = "township_report.raised_to_county"


@dataclass(frozen=True, slots=True)
class Timeline:
    kind: TimelineKind
    text: str


@dataclass(frozen=True, slots=True)
class CancelTasks:
    """The case's open tasks of ``kind`` no longer apply (a relapse ends the follow-ups)."""

    kind: TaskKind
    note: str


@dataclass(frozen=True, slots=True)
class StrikeOffNotices:
    """The case's return notices still in force (issued or escalated) are struck off (销号)
    on ``on`` for ``reason``, each with its timeline entry (a transfer resolves them)."""

    reason: str
    on: date


Effect = (
    OpenDeadline
    | RaiseAlert
    | WithdrawAlert
    | VerifyAlert
    | Notify
    | CreateTask
    | Timeline
    | CancelTasks
    | StrikeOffNotices
)


class InvalidTransition(Exception):
    """The event does not apply to the case as it stands (e.g. a contact on a closed case)."""


# --- the transition table -------------------------------------------------------------------

# (from, event, to, what happens): the whole machine at a glance; docs/case-state-machine.md
# is generated from it by the tests.
TRANSITIONS: tuple[tuple[str, str, str, str], ...] = (
    ("none", "AttendanceChanged", "open", "unexplained absence: blue (and higher if due)"),
    (
        "closed",
        "AttendanceChanged",
        "open",
        "absent within relapse_weeks of 复学: relapse, new episode, report owed again",
    ),
    ("open", "AttendanceChanged", "open", "another absent day: next level; correction: withdraw"),
    ("open", "AttendanceChanged", "closed", "back at school (no red) / leave / corrected"),
    ("open", "AttendanceChanged", "awaiting_reenrollment", "back at school after red"),
    (
        "awaiting_reenrollment",
        "AttendanceChanged",
        "open",
        "absent again: relapse, new episode (return corrected: same episode)",
    ),
    (
        "awaiting_reenrollment",
        "AttendanceChanged",
        "closed",
        "roll corrected: red no longer stands",
    ),
    ("open", "ContactLogged", "open", "call logged; not reached: next attempt due"),
    ("open", "ReportSubmitted", "open", "written report to 教务处"),
    ("open", "ReportDecided", "open", "教务处 accepts, or returns it (due again)"),
    ("open", "AlertVerified", "open", "核查 recorded"),
    ("awaiting_reenrollment", "AlertVerified", "awaiting_reenrollment", "核查 recorded"),
    ("awaiting_reenrollment", "ReenrollmentConfirmed", "closed", "复学 confirmed"),
    ("open", "TransferredOut", "closed", "转学 approved: the case ends"),
    ("awaiting_reenrollment", "TransferredOut", "closed", "转学 approved: the case ends"),
    (
        "closed",
        "TransferredOut",
        "closed",
        "转学 approved: open follow-ups cancelled, notices in force struck off",
    ),
    ("open", "DeadlineDue", "open", "overdue contact/report/verification: escalate"),
    ("awaiting_reenrollment", "DeadlineDue", "awaiting_reenrollment", "复学 overdue: escalate"),
    (
        "closed",
        "AttendanceChanged",
        "closed",
        "roll corrected after closing: alerts it no longer supports withdrawn",
    ),
    ("closed", "DeadlineDue", "closed", "stale deadline: nothing"),
    ("closed", "AlertVerified", "closed", "核查 recorded after the case closed"),
    ("closed", "ReportDecided", "closed", "教务处 accepts a report after the case closed"),
)


Result = tuple[Case, list[Effect]]


def transition(case: Case | None, event: Event, now: datetime, policy: Policy) -> Result:
    """Apply ``event`` at ``now``. ``case`` is None when the student has no open case; the
    ``policy`` is used only to open one (an open case keeps its own). When no case opens the
    result is closed (the previous case unchanged, or a closed placeholder) with no effects."""
    if case is None or case.status is CaseStatus.closed:
        if isinstance(event, AttendanceChanged):
            opened, effects = _maybe_open(case, event, now, policy)
            if case is not None and reopens(case, opened):
                opened = replace(opened, version=case.version + 1)
            elif case is not None and not effects:
                return recount_closed(case, event)
            return opened, effects
        if isinstance(event, DeadlineDue):
            return (case or _no_case(policy)), []
        if isinstance(event, TransferredOut) and case is not None:
            # A closed case stays as it was; what it left open ends with the transfer.
            return case, _transfer_ends(event)
        # What happened stays to be verified (核查) and a report already submitted to be
        # decided after the student is back: only new casework is refused on a closed case.
        late_ok = isinstance(event, AlertVerified) or (
            isinstance(event, ReportDecided) and event.accepted
        )
        if case is not None and late_ok:
            new, effects = _HANDLERS[type(event)](case, event, now)
            return replace(new, version=case.version + 1), effects
        raise InvalidTransition("该学生没有进行中的缺勤案例 (the case is closed)")
    handler = _HANDLERS[type(event)]
    new, effects = handler(case, event, now)
    if new == case:
        return case, effects
    return replace(new, version=case.version + 1), effects


def _no_case(policy: Policy) -> Case:
    return Case(0, policy, status=CaseStatus.closed)


# --- attendance -----------------------------------------------------------------------------


def _current_run(
    ev: AttendanceChanged,
) -> tuple[tuple[date, ...], DayStatus | None]:
    """The latest run of consecutive unexplained absent school days, and the status of the
    latest recorded school day (None if nothing is recorded)."""
    recorded = sorted(
        d
        for d, s in ev.statuses.items()
        if s is not DayStatus.not_recorded and d >= ev.since and ev.calendar.is_school_day(d)
    )
    if not recorded:
        return (), None
    latest = recorded[-1]
    latest_status = ev.statuses[latest]
    if latest_status is not DayStatus.absent:
        return (), latest_status
    return _run_ending(ev, latest), latest_status


def _run_ending(ev: AttendanceChanged, day: date) -> tuple[date, ...]:
    """The consecutive unexplained absent school days ending at ``day``, oldest first."""
    run: list[date] = []
    d: date | None = day
    while d is not None and d >= ev.since:
        status = ev.statuses.get(d, DayStatus.not_recorded)
        if status is DayStatus.absent:
            run.append(d)
        elif status is not DayStatus.not_recorded:
            break
        d = ev.calendar.previous_school_day(d)
    return tuple(reversed(run))


def _counted(case: Case) -> tuple[date, ...]:
    """The days the case has counted: its current run and the days of its live alerts."""
    return tuple(sorted({*case.run, *(d for a in case.live_alerts for d in a.days)}))


def _supported(case: Case, ev: AttendanceChanged) -> Level | None:
    """The highest level the case's counted days still support: the longest run through
    those still recorded absent (None when none is). Days before ``since`` are not shown:
    a case reaching back before it keeps its level."""
    counted = _counted(case)
    if counted and counted[0] < ev.since:
        return case.level
    longest = max(
        (len(_run_ending(ev, d)) for d in counted if ev.statuses.get(d) is DayStatus.absent),
        default=0,
    )
    return case.policy.level_for(longest)


def _higher(a: Level, b: Level | None) -> Level:
    return a if b is None or LEVELS.index(a) >= LEVELS.index(b) else b


def _rule(policy: Policy, level: Level) -> str:
    days = policy.days_for(level)
    who = _ROLE_ZH[policy.recipient(level)]
    more = {
        Level.blue: "当日无故缺勤",
        Level.yellow: f"连续缺勤 {days} 个上学日,触发电话核实",
        Level.red: f"连续缺勤 {days} 个及以上上学日,启动联合劝返",
    }[level]
    return f"{LEVEL_LABELS[level]}:{more},通知{who}"


_ROLE_ZH = {
    Role.county_admin: "县教育局",
    Role.principal: "校长",
    Role.vice_principal: "分管副校长",
    Role.academic_affairs: "教务处",
    Role.head_teacher: "班主任",
    Role.subject_teacher: "任课教师",
}


def _raise_up_to(case: Case, target: Level | None, now: datetime) -> Result:
    """Raise every level up to ``target`` not yet live in this episode, in order."""
    effects: list[Effect] = []
    policy = case.policy
    live = {a.level for a in case.live_alerts}
    alerts = list(case.alerts)
    if target is None:
        return case, effects
    for level in LEVELS[: LEVELS.index(target) + 1]:
        if level in live:
            continue
        days = case.run[-policy.days_for(level) :] if level is not Level.red else case.run
        alert = AlertState(
            level,
            case.episode,
            len(alerts) + 1,
            AlertStatus.raised,
            now,
            days,
            now + timedelta(hours=policy.verify_hours),
        )
        alerts.append(alert)
        recipient = policy.recipient(level)
        effects += [
            RaiseAlert(alert, _rule(policy, level), recipient),
            Notify(recipient, "alert.raised", _rule(policy, level), level, alert.key),
            OpenDeadline(DeadlineKind.verify, alert.key, alert.verify_due),
            Timeline(TimelineKind.alert_raised, f"{LEVEL_LABELS[level]}:累计 {len(days)} 个上学日"),
        ]
        if level is Level.yellow:
            effects.append(
                CreateTask(TaskKind.phone_verification, policy.yellow_to, alert.verify_due)
            )
        if level is Level.red:
            effects += [
                CreateTask(TaskKind.home_visit, Role.vice_principal, alert.verify_due),
                Timeline(
                    TimelineKind.persuasion_opened,
                    "启动联合劝返:分管副校长牵头,班主任与任课教师家访",
                ),
            ]
    return replace(case, alerts=tuple(alerts)), effects


def _withdraw_above(case: Case, keep: Level | None, reason: str) -> Result:
    effects: list[Effect] = []
    alerts = []
    for a in case.alerts:
        above = keep is None or LEVELS.index(a.level) > LEVELS.index(keep)
        if a.episode == case.episode and a.status is not AlertStatus.withdrawn and above:
            a = replace(a, status=AlertStatus.withdrawn)
            recipient = case.policy.recipient(a.level)
            effects += [
                WithdrawAlert(a.key, reason, recipient),
                Notify(
                    recipient,
                    "alert.withdrawn",
                    f"{LEVEL_LABELS[a.level]}已撤回:{reason}",
                    a.level,
                    a.key,
                ),
            ]
        alerts.append(a)
    return replace(case, alerts=tuple(alerts)), effects


def _owe_contact(case: Case, day: date, found_at: datetime) -> Result:
    if case.contact_day == day:
        return case, []
    due = found_at + timedelta(minutes=case.policy.contact_minutes)
    # The attempt number runs through the case, so a key is never reused even when the run
    # falls back to a day whose call was owed before.
    attempt = case.contact_attempt + 1
    new = replace(case, contact_day=day, contact_attempt=attempt, contact_done=False)
    return new, [OpenDeadline(DeadlineKind.contact, f"{day.isoformat()}:{attempt}", due)]


def relapse_window_open(case: Case, now: datetime) -> bool:
    """A case closed as re-enrolled reopens on a new absence within ``relapse_weeks``."""
    return (
        case.status is CaseStatus.closed
        and case.close_reason is CloseReason.reenrolled
        and case.closed_at is not None
        and now - case.closed_at <= timedelta(weeks=case.policy.relapse_weeks)
    )


def reopens(previous: Case | None, new: Case) -> bool:
    """``new`` continues ``previous`` (a relapse) rather than being a case of its own."""
    return (
        previous is not None
        and previous.status is CaseStatus.closed
        and new.status is not CaseStatus.closed
        and new.episode > previous.episode
    )


def _maybe_open(
    previous: Case | None, ev: AttendanceChanged, now: datetime, policy: Policy
) -> Result:
    run, _ = _current_run(ev)
    if not run:
        return (previous or _no_case(policy)), []
    if previous is not None and relapse_window_open(previous, now):
        # Days the closed episode counted are history, not a new absence.
        if set(run) & set(_counted(previous)):
            return previous, []
        reopened = replace(previous, status=CaseStatus.open, close_reason=None, closed_at=None)
        relapse, changes = _relapse(reopened, run, ev, now)
        return relapse, [
            *changes,
            CancelTasks(TaskKind.follow_up, "复学后再次缺勤,转入缺勤追踪"),
        ]
    case = Case(
        student_id=previous.student_id if previous else 0,
        policy=policy,
        opened_at=now,
        run=run,
        report=ReportStatus.due,
        report_round=1,
    )
    effects: list[Effect] = [
        Timeline(TimelineKind.case_opened, f"{run[0].isoformat()} 起无故缺勤,建立缺勤追踪"),
        OpenDeadline(DeadlineKind.report, "1", now + timedelta(hours=policy.report_hours)),
    ]
    case, more = _owe_contact(case, run[-1], ev.found_at.get(run[-1], now))
    effects += more
    case, more = _raise_up_to(case, policy.level_for(len(run)), now)
    return case, effects + more


def recount_closed(case: Case, ev: AttendanceChanged) -> Result:
    """A closed case whose days a correction (or leave granted afterwards) no longer shows
    absent: the alerts of its last episode that the days no longer support are withdrawn and
    their recipients told, as for an open case; the case stays closed, its reason as it was
    (the student is at school either way). Nothing else: no new casework on a closed case."""
    if case.status is not CaseStatus.closed or case.level is None:
        return case, []
    supported = _supported(case, ev)
    if supported is not None and LEVELS.index(supported) >= LEVELS.index(case.level):
        return case, []
    counted = _counted(case)
    if supported is None and any(ev.statuses.get(d) is DayStatus.leave for d in counted):
        why = "结案后补批请假 (leave approved after the case closed)"
    else:
        why = "结案后点名记录更正 (roll corrected after the case closed)"
    new, effects = _withdraw_above(case, supported, why)
    text = "结案后更正:撤回不再成立的预警"
    return replace(new, version=case.version + 1), [
        *effects,
        Timeline(TimelineKind.case_corrected, text),
    ]


def _on_attendance(case: Case, ev: AttendanceChanged, now: datetime) -> Result:
    run, latest = _current_run(ev)
    if case.status is CaseStatus.awaiting_reenrollment:
        # A correction under the days the episode's alerts counted is recounted.
        back = replace(case, status=CaseStatus.open)
        if not run:
            if _supported(back, ev) is Level.red:
                return case, []
            # red no longer stands: no re-enrolment
            return _resolve(replace(back, reenroll_due=None), latest, ev, now)
        if set(run) & set(_counted(case)):
            case = back  # the return itself was corrected: the same episode goes on
    if case.status is CaseStatus.awaiting_reenrollment:
        relapse, changes = _relapse(case, run, ev, now)
        return relapse, [
            *changes,
            CancelTasks(TaskKind.reenrollment, "返校后再次缺勤,复学未能确认"),
        ]
    if not run:
        return _resolve(case, latest, ev, now)
    effects: list[Effect] = []
    target = case.policy.level_for(len(run))
    new = replace(case, run=run)
    # A correction withdraws only what the case's days no longer support: absent Mon-Tue,
    # then Wed present and Thu absent keeps Mon-Tue's yellow.
    keep = _higher(target, _supported(case, ev)) if target is not None else None
    if case.level is not None and (keep is None or LEVELS.index(keep) < LEVELS.index(case.level)):
        new, more = _withdraw_above(new, keep, "点名记录已更正 (roll corrected)")
        effects += more
    if run != case.run:
        new, more = _owe_contact(new, run[-1], ev.found_at.get(run[-1], now))
        effects += more
    new, more = _raise_up_to(new, target, now)
    return new, effects + more


def _relapse(case: Case, run: tuple[date, ...], ev: AttendanceChanged, now: datetime) -> Result:
    """Absent again after a return from red: a new episode with its own alerts from blue, a
    call and a written report owed again; the earlier episodes stay as history."""
    round_ = case.report_round + 1
    relapse = replace(
        case,
        status=CaseStatus.open,
        episode=case.episode + 1,
        run=run,
        reenroll_due=None,
        contact_day=None,
        report=ReportStatus.due,
        report_round=round_,
    )
    due = now + timedelta(hours=case.policy.report_hours)
    relapse, owed = _owe_contact(relapse, run[-1], ev.found_at.get(run[-1], now))
    relapse, raised = _raise_up_to(relapse, case.policy.level_for(len(run)), now)
    return relapse, [
        Timeline(TimelineKind.case_relapse, "复学后再次缺勤"),
        OpenDeadline(DeadlineKind.report, str(round_), due),
        *owed,
        *raised,
    ]


def _resolve(case: Case, latest: DayStatus | None, ev: AttendanceChanged, now: datetime) -> Result:
    """No current run. If none of the case's days is absent any more, the roll was corrected
    (withdrawn) or leave was granted for them (excused): every alert goes. Otherwise the
    student came back (or went on leave) after them: alerts the days no longer support go,
    the others stay."""
    supported = _supported(case, ev)
    if supported is None:
        if any(ev.statuses.get(d) is DayStatus.leave for d in _counted(case)):
            reason, why = CloseReason.excused, "已批准请假 (leave approved)"
            text = "已批准请假,缺勤已说明"
        else:
            reason, why = CloseReason.withdrawn, "点名记录已更正 (roll corrected)"
            text = "点名更正后无无故缺勤"
        new, withdrawn = _withdraw_above(case, None, why)
        closed, more = _close(new, reason, text, now)
        return closed, withdrawn + more
    effects: list[Effect] = []
    if case.level is not None and LEVELS.index(supported) < LEVELS.index(case.level):
        case, effects = _withdraw_above(case, supported, "点名记录已更正 (roll corrected)")
    if latest in (DayStatus.present, DayStatus.late):
        if case.level is Level.red:
            due = _end_of_school_days(ev, now, case.policy.reenroll_school_days)
            new = replace(case, status=CaseStatus.awaiting_reenrollment, run=(), reenroll_due=due)
            effects.append(Timeline(TimelineKind.case_returned, "学生返校,待确认复学"))
            if due != case.reenroll_due:  # else: a corrected return, the same one still owed
                effects += [
                    CreateTask(TaskKind.reenrollment, Role.head_teacher, due),
                    OpenDeadline(DeadlineKind.reenroll, _reenroll_key(case.episode, due), due),
                ]
            return new, [
                *effects,
                Notify(case.policy.red_to, "case.returned", "学生已返校,请一周内确认复学"),
            ]
        closed, more = _close(case, CloseReason.returned, "学生返校", now)
    else:
        closed, more = _close(case, CloseReason.excused, "已批准请假,缺勤已说明", now)
    return closed, effects + more


def _reenroll_key(episode: int, due: datetime) -> str:
    # The instant, not its rendering: the same whatever zone the due time was loaded in.
    return f"{episode}:{int(due.timestamp())}"


def _close(case: Case, reason: CloseReason, text: str, now: datetime) -> Result:
    closed = replace(case, status=CaseStatus.closed, close_reason=reason, run=(), closed_at=now)
    return closed, [Timeline(TimelineKind(f"case.{reason.value}"), text)]


def _end_of_school_days(ev: AttendanceChanged, now: datetime, n: int) -> datetime:
    zone = ZoneInfo(ev.timezone)
    d: date | None = now.astimezone(zone).date()
    for _ in range(n):
        nxt = ev.calendar.next_school_day(d) if d is not None else None
        d = nxt or (d + timedelta(days=1) if d else None)
    end = d or now.astimezone(zone).date()
    return datetime.combine(end, time(18, 0), zone)


# --- staff actions --------------------------------------------------------------------------


def _require_open(case: Case) -> None:
    if case.status is not CaseStatus.open:
        raise InvalidTransition("案例已不在进行中 (the case is not open)")


def _on_contact(case: Case, ev: ContactLogged, now: datetime) -> Result:
    _require_open(case)
    if ev.reached:
        return replace(case, contact_done=True), [
            Timeline(TimelineKind.contact_reached, "已联系到家长")
        ]
    attempt = case.contact_attempt + 1
    day = case.contact_day or (case.run[-1] if case.run else ev.at.date())
    due = ev.at + timedelta(minutes=case.policy.recontact_minutes)
    return replace(case, contact_attempt=attempt, contact_done=False), [
        Timeline(TimelineKind.contact_unreached, f"未联系上家长,第 {attempt} 次联系待办"),
        OpenDeadline(DeadlineKind.contact, f"{day.isoformat()}:{attempt}", due),
    ]


def _on_report(case: Case, ev: ReportSubmitted, now: datetime) -> Result:
    _require_open(case)
    if case.report not in (ReportStatus.due, ReportStatus.returned):
        raise InvalidTransition("书面报告已提交 (the report is already submitted)")
    return replace(case, report=ReportStatus.submitted), [
        Timeline(TimelineKind.report_submitted, "书面缺勤报告已提交教务处"),
        Notify(Role.academic_affairs, "report.submitted", "收到书面缺勤报告,请审核"),
    ]


def _on_report_decided(case: Case, ev: ReportDecided, now: datetime) -> Result:
    if case.report is not ReportStatus.submitted:
        raise InvalidTransition("没有待审核的书面报告 (no report awaiting a decision)")
    if ev.accepted:
        return replace(case, report=ReportStatus.accepted), [
            Timeline(TimelineKind.report_accepted, "教务处已接收书面报告")
        ]
    round_ = case.report_round + 1
    due = ev.at + timedelta(hours=case.policy.report_hours)
    return replace(case, report=ReportStatus.returned, report_round=round_), [
        Timeline(TimelineKind.report_returned, "教务处退回书面报告,需重新提交"),
        Notify(Role.head_teacher, "report.returned", "书面缺勤报告被退回,请补充后重新提交"),
        OpenDeadline(DeadlineKind.report, str(round_), due),
    ]


def _on_verified(case: Case, ev: AlertVerified, now: datetime) -> Result:
    alerts = []
    found = False
    for a in case.alerts:
        if a.key == ev.key:
            if a.status is not AlertStatus.raised:
                raise InvalidTransition("该预警已核查或已撤回 (already verified or withdrawn)")
            a = replace(a, status=AlertStatus.verified)
            found = True
        alerts.append(a)
    if not found:
        raise InvalidTransition("预警不属于该案例 (no such alert on this case)")
    return replace(case, alerts=tuple(alerts)), [
        VerifyAlert(ev.key, ev.at),
        Timeline(TimelineKind.alert_verified, "预警已核查"),
    ]


def _on_reenrolled(case: Case, ev: ReenrollmentConfirmed, now: datetime) -> Result:
    if case.status is not CaseStatus.awaiting_reenrollment:
        raise InvalidTransition("该案例无需确认复学 (no re-enrolment awaited)")
    closed, effects = _close(
        replace(case, reenroll_due=None), CloseReason.reenrolled, "已确认复学", ev.at
    )
    # A returned student is followed up at 1, 4 and 8 weeks: relapse is most likely early.
    checks = [
        CreateTask(TaskKind.follow_up, Role.head_teacher, ev.at + timedelta(weeks=w))
        for w in FOLLOW_UP_WEEKS
    ]
    return closed, [*effects, *checks]


FOLLOW_UP_WEEKS = (1, 4, 8)


def _on_transferred(case: Case, ev: TransferredOut, now: datetime) -> Result:
    closed, effects = _close(
        replace(case, reenroll_due=None),
        CloseReason.transferred,
        f"已办理转学手续,转入{ev.to_school},缺勤追踪结束",
        ev.at,
    )
    cancelled = [
        CancelTasks(kind, "学生已转学")
        for kind in (TaskKind.phone_verification, TaskKind.home_visit, TaskKind.reenrollment)
    ]
    return closed, [*effects, *cancelled, *_transfer_ends(ev)]


def _transfer_ends(ev: TransferredOut) -> list[Effect]:
    """What a transfer ends on any case of the student, open or closed: the follow-up checks
    after a 复学 (the sending school's head teacher can no longer make them) and the return
    notices in force (销号, the transfer as the reason)."""
    return [
        CancelTasks(TaskKind.follow_up, f"学生已转学至{ev.to_school}"),
        StrikeOffNotices(f"已办理转学手续,转入{ev.to_school}", ev.on),
    ]


# --- deadlines ------------------------------------------------------------------------------


def _on_deadline(case: Case, ev: DeadlineDue, now: datetime) -> Result:
    """Act only if the obligation the deadline was made for is still owed (the fence)."""
    if ev.kind is DeadlineKind.contact:
        owed = (
            case.status is CaseStatus.open
            and not case.contact_done
            and case.contact_day is not None
            and ev.key == f"{case.contact_day.isoformat()}:{case.contact_attempt}"
        )
        if owed:
            return case, [
                Notify(case.policy.yellow_to, "contact.overdue", "班主任未在规定时间内联系家长"),
                Timeline(TimelineKind.contact_overdue, "家长联系超时,已告知分管副校长"),
            ]
    elif ev.kind is DeadlineKind.report:
        owed = (
            case.status is CaseStatus.open
            and case.report in (ReportStatus.due, ReportStatus.returned)
            and ev.key == str(case.report_round)
        )
        if owed:
            return case, [
                Notify(Role.academic_affairs, "report.overdue", "书面缺勤报告逾期未交"),
                Notify(case.policy.yellow_to, "report.overdue", "书面缺勤报告逾期未交"),
                Timeline(TimelineKind.report_overdue, "书面报告逾期,已告知教务处和分管副校长"),
            ]
    elif ev.kind is DeadlineKind.verify:
        alert = next((a for a in case.alerts if a.key == ev.key), None)
        if alert is not None and alert.status is AlertStatus.raised:
            up = case.policy.escalation(alert.level)
            return case, [
                Notify(
                    up,
                    "alert.escalated",
                    f"{LEVEL_LABELS[alert.level]}超过 {case.policy.verify_hours} 小时未核查",
                    alert.level,
                    alert.key,
                ),
                Timeline(
                    TimelineKind.alert_escalated, f"{LEVEL_LABELS[alert.level]}逾期未核查,已上报"
                ),
            ]
    elif (
        ev.kind is DeadlineKind.reenroll
        and case.status is CaseStatus.awaiting_reenrollment
        and case.reenroll_due is not None
        and ev.key == _reenroll_key(case.episode, case.reenroll_due)
    ):
        return case, [
            Notify(case.policy.yellow_to, "reenroll.overdue", "返校一周仍未确认复学"),
            Notify(case.policy.red_to, "reenroll.overdue", "返校一周仍未确认复学"),
            Timeline(TimelineKind.reenroll_overdue, "复学确认逾期"),
        ]
    return case, []


_HANDLERS: dict[type, Callable[[Case, object, datetime], Result]] = {
    AttendanceChanged: _on_attendance,  # type: ignore[dict-item]
    ContactLogged: _on_contact,  # type: ignore[dict-item]
    ReportSubmitted: _on_report,  # type: ignore[dict-item]
    ReportDecided: _on_report_decided,  # type: ignore[dict-item]
    AlertVerified: _on_verified,  # type: ignore[dict-item]
    ReenrollmentConfirmed: _on_reenrolled,  # type: ignore[dict-item]
    DeadlineDue: _on_deadline,  # type: ignore[dict-item]
    TransferredOut: _on_transferred,  # type: ignore[dict-item]
}


def mermaid() -> str:
    """The transition table as a Mermaid state diagram."""
    lines = ["stateDiagram-v2", "    [*] --> none"]
    for src, event, dst, what in TRANSITIONS:
        # Mermaid ends a transition label at ':' or ';'.
        label = f"{event} — {what}".replace(":", " →").replace(";", ",")
        lines.append(f"    {src} --> {dst}: {label}")
    lines.append("    closed --> [*]")
    return "\n".join(lines)
