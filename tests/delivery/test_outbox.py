"""The outbox's one writer (``app.delivery.outbox.enqueue``): a notice once per cause and
person, cut to its columns, and held for the digest when the engine says so."""

from __future__ import annotations

from datetime import UTC, datetime

from app.context import AppContext
from app.db.models import Notification
from app.delivery import outbox
from app.delivery.outbox import Notice, NoticeState
from app.domain.cases import Level
from app.domain.roles import Role
from tests.helpers import rows
from tests.world import World

NOW = datetime(2026, 11, 24, 1, 5, tzinfo=UTC)


async def test_a_notice_is_written_once_cut_to_its_columns_and_held_when_asked(
    ctx: AppContext, world: World
) -> None:
    head = world.ids["head_teacher"]
    sent = Notice(
        idem_key="case:1:v2:1:x",
        staff_id=head,
        topic="alert.blue",
        title="蓝" * 300,
        body="文" * 2500,
        role=Role.head_teacher,
        level=Level.blue,
        created_at=NOW,
    )
    held = Notice(
        idem_key="deadline:9:1:x",
        staff_id=head,
        topic="contact.overdue",
        title="逾期",
        created_at=NOW,
        state=NoticeState.held_for_digest,
    )
    async with ctx.uow() as uow:
        await outbox.enqueue(uow.session, [sent, held])
        await outbox.enqueue(uow.session, [sent])  # the same cause retried: nothing more
        await uow.commit()
    got = {n.idem_key: n for n in await rows(ctx, Notification)}
    assert set(got) == {"case:1:v2:1:x", "deadline:9:1:x"}
    first = got["case:1:v2:1:x"]
    assert (len(first.title), len(first.body)) == (200, 2000)
    assert (first.role, first.level, first.dispatched_at, first.digest_pending) == (
        "head_teacher",
        "blue",
        None,
        False,
    )
    second = got["deadline:9:1:x"]
    assert second.digest_pending and second.dispatched_at is not None
