"""The outbox's one owner: a notice to one staff member (``Notice``), and ``enqueue``, the one
way every producer — the engine, the roll's reminders, casework, illness, reports — writes
notices, in the producer's own transaction (the outbox pattern: the state change and the
notices it causes commit together). The delivery worker turns them into channel deliveries;
the inbox shows them.

Decisions:
- ``idem_key`` names the cause and the person: the same transition retried, or a job run twice,
  writes the notice once (``ON CONFLICT DO NOTHING``);
- a notice's level is the case's ``Level``, its state a ``NoticeState``, and a delivery's
  state an ``app.domain.delivery.DeliveryState`` (enums; the stored values are theirs). Topics
  stay strings: they are keys into the wording registry (``app.delivery.wording.TOPICS``),
  which the case machine and the other producers name and a county's templates are stored
  by, so an enum would only repeat that registry's keys; a topic it lacks fails at rendering
  (``TemplateError``) and its delivery is dead-lettered with the reason;
- a notice is either sent (``NoticeState.to_send``) or held for the engine's late digest
  (``held_for_digest``: in the inbox at once, marked dispatched, folded into one digest per
  recipient after an outage);
- title and body are cut to their columns here, so no producer's long text fails a commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.delivery import repository as repo
from app.domain.cases import Level
from app.domain.roles import Role

TITLE_MAX = 200
BODY_MAX = 2000


class NoticeState(StrEnum):
    to_send = "to_send"
    held_for_digest = "held_for_digest"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    idem_key: str
    staff_id: int
    topic: str
    title: str
    created_at: datetime
    body: str = ""
    # Why this person: the role they were told in.
    role: Role | None = None
    level: Level | None = None
    case_id: int | None = None
    alert_id: int | None = None
    student_id: int | None = None
    school_id: int | None = None
    state: NoticeState = NoticeState.to_send

    def row(self) -> dict[str, Any]:
        held = self.state is NoticeState.held_for_digest
        return {
            "idem_key": self.idem_key,
            "staff_id": self.staff_id,
            "role": self.role.value if self.role is not None else None,
            "topic": self.topic,
            "title": self.title[:TITLE_MAX],
            "body": self.body[:BODY_MAX],
            "level": self.level.value if self.level is not None else None,
            "case_id": self.case_id,
            "alert_id": self.alert_id,
            "student_id": self.student_id,
            "school_id": self.school_id,
            "created_at": self.created_at,
            "dispatched_at": self.created_at if held else None,
            "digest_pending": held,
        }


async def enqueue(session: AsyncSession, notices: Sequence[Notice]) -> None:
    """Write the notices in the caller's transaction, each once per ``idem_key``."""
    await repo.add_notifications(session, [n.row() for n in notices])
