"""The outbox's one writer (``app.delivery.outbox.enqueue``): a notice once per cause and
person, cut to its columns, and held for the digest when the engine says so."""

from __future__ import annotations

from datetime import UTC, datetime

from app.alerts import timeline_repo
from app.context import AppContext
from app.db.models import CaseEvent, Notification
from app.delivery import outbox
from app.delivery.outbox import Notice, NoticeState
from app.domain.cases import Level, TimelineKind
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


async def test_a_batch_of_notices_alike_but_for_their_key_is_written_whole(
    ctx: AppContext, world: World
) -> None:
    """What a sweep writes: hundreds of notices with one topic, title, role and time, and the
    same notices' timeline entries, some entirely alike. Every row arrives with its values."""
    head = world.ids["head_teacher"]
    alike = [
        Notice(
            idem_key=f"deadline:{i}:1:{head}",
            staff_id=head,
            role=Role.head_teacher,
            topic="contact.overdue",
            title="班主任未在规定时间内联系家长",
            case_id=i,
            created_at=NOW,
        )
        for i in range(1, 301)
    ]
    same = [timeline_repo.entry(7, TimelineKind.deadline_late, "延迟", NOW, None)] * 3
    opened = timeline_repo.entry(7, TimelineKind.case_opened, "建立", NOW, "系统")
    async with ctx.uow() as uow:
        await outbox.enqueue(uow.session, alike)
        await timeline_repo.write(uow.session, same)  # every column alike
        await timeline_repo.write(uow.session, [same[0], opened])
        await uow.commit()
    got = await rows(ctx, Notification, Notification.topic == "contact.overdue")
    assert sorted(n.case_id for n in got) == list(range(1, 301))
    assert {(n.staff_id, n.role, n.title, n.created_at, n.dispatched_at) for n in got} == {
        (head, "head_teacher", "班主任未在规定时间内联系家长", NOW, None)
    }
    events = await rows(ctx, CaseEvent, CaseEvent.case_id == 7)
    assert sorted((e.kind, e.text, e.actor) for e in events) == [
        ("case.opened", "建立", "系统"),
        ("deadline.late", "延迟", None),
        ("deadline.late", "延迟", None),
        ("deadline.late", "延迟", None),
        ("deadline.late", "延迟", None),
    ]
    # Only the case-level event waits for the webhooks' dispatch.
    assert sorted((e.kind, e.dispatched_at) for e in events)[0] == ("case.opened", None)
    assert all(e.dispatched_at == NOW for e in events if e.kind == "deadline.late")
