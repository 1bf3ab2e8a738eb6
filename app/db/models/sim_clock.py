"""The deployment's simulation clock (drills only; production never has one) and its moves.

One row (``id = 1``) holds the simulated time. It is frozen: it changes only when someone
moves it (``POST /sim/clock``), like Stripe's test clocks, so every process reads the same
instant and a drill is repeatable. ``moving_until``/``moving_token`` are a lease on the
wall clock: while one move steps the clock through its moments, engines pause and a second
move is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db.models.base import bigint_pk
from app.db.types import UTCDateTime


class SimClockRow(SQLModel, table=True):
    __tablename__ = "sim_clock"
    id: int = Field(default=1, primary_key=True)
    now: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Wall-clock time of the last change, and the simulated time the deployment started at.
    set_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    moving_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    moving_token: str | None = Field(default=None, max_length=36)


class SimClockMove(SQLModel, table=True):
    """Who moved the clock, from when to when, and what fired on the way."""

    __tablename__ = "sim_clock_move"
    id: int | None = bigint_pk()
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, description="wall clock")
    actor_kind: str = Field(max_length=10)
    actor_id: int
    actor_name: str = Field(max_length=100)
    kind: str = Field(max_length=10)  # start | set | advance
    from_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    to_time: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Reached: equals to_time unless the move was cut short (then the clock stands here).
    reached: datetime | None = Field(default=None, sa_type=UTCDateTime)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
