"""The shared simulated clock and the engine's health: what /sim/clock and /engine/health answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.types import Instant
from app.delivery.schemas import DeliveryHealthOut, ProcessOut

# A school year at once, at most: a longer jump is almost always a typo (minutes for days).
MAX_ADVANCE_MINUTES = 366 * 24 * 60


class ClockMove(BaseModel):
    """Either ``set`` (an instant; back only while nothing is recorded after it) or
    ``advance_minutes`` (forward, at most a school year at once)."""

    model_config = ConfigDict(extra="forbid")
    set: Instant | None = Field(default=None, examples=["2026-08-31T08:00:00+08:00"])
    advance_minutes: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ADVANCE_MINUTES,
        description="向前推进的分钟数,1 至 527040(一学年)",
        examples=[7 * 24 * 60],
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.set is None) == (self.advance_minutes is None):
            raise ValueError("给出 set 或 advance_minutes 之一 (give set or advance_minutes)")
        return self


class ClockMoveOut(BaseModel):
    """One move of the clock: who (wall-clock time of the move), from, to, what fired."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime = Field(description="when the move was made, real time")
    actor_kind: str = Field(description="staff | api_key | system")
    actor_id: int
    actor_name: str
    kind: str = Field(description="start | set | advance")
    from_time: datetime | None
    to_time: datetime
    reached: datetime | None = Field(description="where the clock stopped (to_time unless cut)")
    summary: dict[str, Any] = Field(description="what fired on the way")


class ClockOut(BaseModel):
    now: datetime = Field(description="simulated time (school time) of the whole deployment")
    wall_clock: datetime = Field(description="real time: sign-in and tokens follow it")
    started_at: datetime = Field(description="where this deployment's clock started")
    set_at: datetime = Field(description="real time of the last move")
    moving: bool = Field(description="a move is stepping the clock right now")
    may_move: bool = Field(description="whether the caller may move it")
    moves: list[ClockMoveOut] = Field(description="the latest moves, newest first")
    moves_total: int


class ClockMoved(BaseModel):
    now: datetime
    previous: datetime
    reached_target: bool = Field(description="false when the move was cut short")
    fired: int = Field(0, description="deadlines fired on the way")
    cancelled: int = Field(0, description="deadlines cancelled as stale")
    drill: dict[str, Any] = Field(
        default_factory=dict, description="every job's count on the way, and the seconds taken"
    )


class JobStatusOut(BaseModel):
    """One periodic job as the engines last recorded it (any engine process)."""

    name: str
    label: str = Field(description="任务名称")
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    runs: int
    failures: int = Field(description="failed runs in all")
    failing: int = Field(description="failed runs since the last success (0: well)")


class EngineHealthOut(BaseModel):
    now: datetime
    pending_overdue: int = Field(description="due but not yet fired")
    oldest_overdue_due_at: datetime | None
    oldest_overdue_seconds: float | None = Field(description="a stuck engine shows here")
    failed_deadlines: int = Field(
        default=0, description="set aside: firing raised; retried with backoff (已搁置的期限)"
    )
    failed_oldest_due_at: datetime | None = None
    failed_last_error: str | None = None
    digest_pending: int = Field(
        default=0, description="late notices not yet folded into their recipient's digest"
    )
    jobs: list[JobStatusOut] = Field(default_factory=list)
    delivery: DeliveryHealthOut | None = None
    processes: list[ProcessOut] = Field(default_factory=list)
