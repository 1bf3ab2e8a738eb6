"""Delivery of notifications over channels: routes per school and role, channel targets
(robots), county webhook subscriptions, one delivery row per (notification, channel) with its
attempts as receipts."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db.models.base import bigint_pk, fk_field
from app.db.types import UTCDateTime

_DUE = text("state IN ('pending', 'sending')")


class DeliverySettings(SQLModel, table=True):
    """Per school: quiet hours, and which channels each role uses in fallback order."""

    __tablename__ = "delivery_settings"
    school_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    quiet_start: time = time(22, 0)
    quiet_end: time = time(7, 0)
    # {"head_teacher": ["wecom_robot", "sms"], "principal": ["wechat", "sms"], ...}
    routes: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ChannelTarget(SQLModel, table=True):
    """A school's group robot (企业微信 or 钉钉): its webhook and secret (encrypted)."""

    __tablename__ = "channel_target"
    __table_args__ = (UniqueConstraint("school_id", "channel", name="uq_channel_target"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = fk_field("school.id", index=False)
    channel: str = Field(max_length=20)
    url: str = Field(max_length=500)
    secret_enc: str | None = Field(default=None, max_length=500)
    # SMS: {"templates": {kind: SmsTemplate}} (the school's approved templates and mapping)
    options: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    enabled: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)


class WebhookSubscription(SQLModel, table=True):
    """A county system's endpoint for JSON events, signed with its secret (encrypted)."""

    __tablename__ = "webhook_subscription"
    id: int | None = Field(default=None, primary_key=True)
    county_id: int = fk_field("county.id")
    school_id: int | None = fk_field("school.id", nullable=True)
    url: str = Field(max_length=500)
    secret_enc: str = Field(max_length=500)
    # During a rotation: the previous secret, valid (and signing too) until secret_prev_until.
    secret_prev_enc: str | None = Field(default=None, max_length=500)
    secret_prev_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """One notification over one channel (or one event to one webhook): at least once, keyed
    so a retry or a restarted worker never makes a second row."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "next_attempt_at", sqlite_where=_DUE, postgresql_where=_DUE),
    )
    id: int | None = bigint_pk()
    idem_key: str = Field(max_length=160, unique=True)
    notification_id: int | None = Field(default=None, index=True)
    subscription_id: int | None = None
    event_id: str | None = Field(default=None, max_length=120)
    channel: str = Field(max_length=20)
    target_key: str = Field(max_length=120)  # what shares a rate limit (a robot, a webhook)
    staff_id: int | None = None
    school_id: int | None = None
    case_id: int | None = None
    alert_id: int | None = Field(default=None, index=True)
    level: str | None = Field(default=None, max_length=10)
    # pending | sending | sent | dead | folded: ``app.domain.delivery.DeliveryState``
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    # Wall-clock time the current claim runs out, and the claim's fencing token: an outcome is
    # written only by the worker whose ``lease_id`` is still on the row.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_id: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    digest_id: str | None = Field(default=None, max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DeliveryAttempt(SQLModel, table=True):
    """A receipt: one try over one channel."""

    __tablename__ = "delivery_attempt"
    id: int | None = bigint_pk()
    delivery_id: int = Field(index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    channel: str = Field(max_length=20)
    status: str = Field(max_length=20)  # ok | retry | permanent | no_subscription
    http_status: int | None = None
    code: str | None = Field(default=None, max_length=64)  # the platform's error code
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int | None = None


class RateBucket(SQLModel, table=True):
    """A robot's rate window, shared by every engine process: the wall-clock times of its
    sends in the last period, written back only if ``version`` is still the one read
    (compare-and-set), so two processes never both take the last free slot."""

    __tablename__ = "rate_bucket"
    key: str = Field(primary_key=True, max_length=120)
    stamps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0


class EngineHeartbeat(SQLModel, table=True):
    """One row per engine process: when its deadline sweep and its delivery tick last
    finished without an error (wall clock). Health reads these."""

    __tablename__ = "engine_heartbeat"
    process_id: str = Field(primary_key=True, max_length=64)
    hostname: str = Field(max_length=100)
    pid: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    beat_at: datetime = Field(sa_type=UTCDateTime)
    last_sweep_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_delivery_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
