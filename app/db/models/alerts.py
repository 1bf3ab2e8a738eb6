"""The alert engine's tables: cases, their alerts, durable deadlines, the outbox/inbox of
notifications, and the casework records (timeline, contacts, reports, tasks), plus policies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from app.db.models.base import bigint_pk, created_field, fk_field
from app.db.types import UTCDateTime

_OPEN = text("status <> 'closed'")
_PENDING = text("state = 'pending'")
_FAILED = text("state = 'failed'")
_TASK_OPEN = text("status = 'open'")
_DIGEST_PENDING = text("digest_pending")


class AbsenceCase(SQLModel, table=True):
    __tablename__ = "absence_case"
    __table_args__ = (
        # At most one case per student that is not closed.
        Index(
            "uq_absence_case_one_open",
            "student_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    student_id: int = fk_field("student.id")
    county_id: int = fk_field("county.id", index=False)
    school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id")
    status: str = Field(max_length=30)
    episode: int = 1
    level: str | None = Field(default=None, max_length=10)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_reason: str | None = Field(default=None, max_length=20)
    run: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    contact_day: date | None = None
    contact_attempt: int = 0
    contact_done: bool = True
    report_status: str | None = Field(default=None, max_length=20)
    report_round: int = 0
    reenroll_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    work_group: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    version: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("case_id", "key", name="uq_alert_case_key"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = fk_field("absence_case.id")
    key: str = Field(max_length=40)
    student_id: int = fk_field("student.id")
    school_id: int = fk_field("school.id")
    class_id: int = fk_field("school_class.id")
    level: str = Field(max_length=10)
    episode: int
    seq: int
    status: str = Field(max_length=20)
    raised_at: datetime = Field(sa_type=UTCDateTime, index=True)
    days: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule: str = Field(max_length=200)
    recipient_role: str = Field(max_length=30)
    verify_due: datetime = Field(sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by: str | None = Field(default=None, max_length=100)
    verify_note: str | None = Field(default=None, max_length=500)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = Field(default=None, max_length=200)


class Deadline(SQLModel, table=True):
    """A due obligation, durable: written with the change that creates it, claimed once.

    A deadline whose firing raised is set aside as ``failed`` with its error and tried again
    at ``retry_at`` (backing off), so it never holds back the others; ``attempts`` counts the
    failed tries."""

    __tablename__ = "deadline"
    __table_args__ = (
        Index(
            "ix_deadline_pending_due", "due_at", sqlite_where=_PENDING, postgresql_where=_PENDING
        ),
        Index(
            "ix_deadline_failed_retry", "retry_at", sqlite_where=_FAILED, postgresql_where=_FAILED
        ),
    )
    id: int | None = bigint_pk()
    dedupe_key: str = Field(max_length=120, unique=True)
    case_id: int = Field(index=True)
    kind: str = Field(max_length=20)
    key: str = Field(max_length=60)
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default="pending", max_length=20)  # pending|fired|cancelled|failed
    created_at: datetime = Field(sa_type=UTCDateTime)
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # 64-bit: a deadline fired weeks late is ~2**31 ms and more.
    lateness_ms: int | None = Field(default=None, sa_type=BigInteger)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = Field(default=None, max_length=500)
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


_UNSENT = text("dispatched_at IS NULL")  # not yet dispatched (notices, timeline)


class Notification(SQLModel, table=True):
    """The outbox, one row per recipient, written in the transition's transaction; it is
    also the staff member's in-app inbox until delivery channels send it further."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_staff_created", "staff_id", "created_at"),
        Index(
            "ix_notification_digest_pending",
            "id",
            sqlite_where=_DIGEST_PENDING,
            postgresql_where=_DIGEST_PENDING,
        ),
        # The delivery worker's claim of notices not yet turned into deliveries (migration
        # 0034): without it every dispatch round scanned the whole outbox.
        Index(
            "ix_notification_undispatched",
            "id",
            sqlite_where=_UNSENT,
            postgresql_where=_UNSENT,
        ),
    )
    id: int | None = bigint_pk()
    idem_key: str = Field(max_length=160, unique=True)
    staff_id: int = fk_field("staff.id", index=False)
    role: str | None = Field(default=None, max_length=30)  # why this person: their role
    topic: str = Field(max_length=40)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=2000)
    level: str | None = Field(default=None, max_length=10)
    case_id: int | None = Field(default=None, index=True)
    alert_id: int | None = None
    student_id: int | None = None
    school_id: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the delivery worker has turned it into channel deliveries.
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A notice caused by an obligation older than the digest horizon (after an outage): kept
    # in the inbox, not sent on its own (``dispatched_at`` is set when written); the engine
    # folds it into one digest per recipient and clears this.
    digest_pending: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class CaseEvent(SQLModel, table=True):
    """The case's timeline; case-level events also go to county webhooks from here."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_case_event_unsent", "id", sqlite_where=_UNSENT, postgresql_where=_UNSENT),
    )
    id: int | None = bigint_pk()
    case_id: int = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=40)
    text: str = Field(max_length=500)
    actor: str | None = Field(default=None, max_length=100)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseTask(SQLModel, table=True):
    __tablename__ = "case_task"
    __table_args__ = (
        Index(
            "ix_case_task_open_due", "due_at", sqlite_where=_TASK_OPEN, postgresql_where=_TASK_OPEN
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    kind: str = Field(max_length=30)
    role: str = Field(max_length=30)
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="open", max_length=10)  # open | done | cancelled
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The engine's reminder when the task falls due, and the notice up the line when it is
    # still open ``task_overdue_hours`` later: each sent once, these say it was.
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ParentContact(SQLModel, table=True):
    __tablename__ = "parent_contact"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    logged_by: str = Field(max_length=100)
    answered_by: str | None = Field(default=None, max_length=50)
    reached: bool
    reason_category: str | None = Field(default=None, max_length=30)
    reason_note: str | None = Field(default=None, max_length=500)
    verified: bool = False


class AbsenceReport(SQLModel, table=True):
    __tablename__ = "absence_report"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(index=True)
    round: int
    content: str = Field(max_length=4000)
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    submitted_by: str = Field(max_length=100)
    status: str = Field(default="submitted", max_length=20)  # submitted | accepted | returned
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=100)
    decision_note: str | None = Field(default=None, max_length=500)


class AlertPolicyRow(SQLModel, table=True):
    """Threshold overrides for a county (``county:1``) or a school (``school:3``)."""

    __tablename__ = "alert_policy"
    id: int | None = Field(default=None, primary_key=True)
    scope_key: str = Field(max_length=40, unique=True)
    county_id: int | None = None
    school_id: int | None = None
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = created_field()


class EngineJob(SQLModel, table=True):
    """Each periodic job's last run, success and error, written by whichever process ran it:
    ``GET /engine/health`` shows every engine's view."""

    __tablename__ = "engine_job"
    name: str = Field(primary_key=True, max_length=40)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    runs: int = 0
    failures: int = 0
    # Failed runs since the last success: 0 when the job is well.
    failing: int = 0
