"""岗位空缺: the daily notice of roles nobody holds; and the robots' shared rate window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from app.alerts.vacancies import remind_vacant_roles
from app.context import AppContext
from app.core.clock import SimClock
from app.db.models import Notification
from app.delivery.ratelimit import SlidingWindow
from app.domain.roles import Role, stand_ins
from tests.world import build_world


async def _notices(ctx: AppContext) -> list[Notification]:
    async with ctx.uow() as uow:
        rows = await uow.session.exec(
            select(Notification).where(Notification.topic == "roles.vacant")
        )
        return sorted(rows, key=lambda n: n.id or 0)


async def test_school_managers_hear_once_a_day_which_roles_are_empty(ctx: AppContext) -> None:
    w = await build_world(ctx)
    assert isinstance(ctx.clock, SimClock)
    school_a, school_b = w.ids["school_A"], w.ids["school_B"]
    await remind_vacant_roles(ctx, [school_a, school_b])
    await remind_vacant_roles(ctx, [school_a, school_b])  # every minute: still once
    notes = await _notices(ctx)
    to_a = {n.staff_id for n in notes if n.school_id == school_a}
    assert to_a == {w.ids["principal"], w.ids["vice_principal"], w.ids["academic_affairs"]}
    [title] = {n.title for n in notes if n.school_id == school_a}
    assert "A2无班主任" in title and "A1" not in title  # A1 has one, A2 has none
    # School B: no 教务处 and no head teacher for B1; its principal and vice principal hear.
    b_notes = [n for n in notes if n.school_id == school_b]
    assert {n.staff_id for n in b_notes} == {w.ids["principal_B"], w.ids["vice_principal_B"]}
    assert "教务处" in b_notes[0].title and "B1无班主任" in b_notes[0].title
    ctx.clock.now += timedelta(days=1)
    await remind_vacant_roles(ctx, [school_a])
    assert len(await _notices(ctx)) == len(notes) + 3  # the next day, again


async def test_no_vacancy_notice_before_the_morning(ctx: AppContext) -> None:
    w = await build_world(ctx)
    assert isinstance(ctx.clock, SimClock)
    ctx.clock.now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 04:00 in Beijing
    await remind_vacant_roles(ctx, [w.ids["school_A"]])
    assert await _notices(ctx) == []


def test_stand_ins_go_up_the_line_of_responsibility() -> None:
    assert stand_ins(Role.head_teacher) == [Role.vice_principal, Role.principal, Role.county_admin]
    assert stand_ins(Role.vice_principal) == [Role.principal, Role.county_admin]
    assert stand_ins(Role.county_admin) == []


T0 = datetime(2026, 12, 1, tzinfo=UTC)


@given(st.lists(st.integers(min_value=0, max_value=600_000), min_size=1, max_size=120))
def test_the_window_never_lets_more_than_twenty_through_in_any_minute(
    offsets_ms: list[int],
) -> None:
    window = SlidingWindow(20, timedelta(minutes=1))
    stamps: list[datetime] = []
    sent: list[datetime] = []
    for ms in sorted(offsets_ms):
        now = T0 + timedelta(milliseconds=ms)
        ok, stamps, free_at = window.take(stamps, now)
        if ok:
            sent.append(now)
        else:
            assert free_at > now
            # Refused now, and the promised time really is free.
            assert window.take(stamps, free_at)[0]
    for i, start in enumerate(sent):
        in_minute = [t for t in sent[i:] if t - start < timedelta(minutes=1)]
        assert len(in_minute) <= 20


_KINDS = ["thing", "number", "letter", "symbol", "character_string", "time", "date"]
_KINDS += ["phone_number", "car_number", "name", "phrase"]


@given(
    kind=st.sampled_from(_KINDS),
    value=st.text(max_size=60),
    topic=st.text(max_size=12),
)
def test_every_wechat_keyword_value_fits_the_published_rules(
    kind: str, value: str, topic: str
) -> None:
    """Whatever a notice holds (empty, too long, the wrong script), the value sent for a
    keyword passes the contract fake's check of WeChat's rules (no 47003)."""
    from app.delivery.channels.base import Message
    from app.delivery.channels.wechat import keyword_value
    from tests.fakes.platforms import keyword_problem

    message = Message(
        "e-1",
        "alert.raised",
        "t",
        "",
        "",
        T0,
        params={"p": value, "topic": topic, "at_full": "2026年12月1日 08:00"},
    )
    key = f"{kind}3"
    sent = keyword_value(key, "p", message)
    if kind in ("symbol", "phone_number", "amount"):
        return  # not mapped by our templates: only cut to length, no fallback content
    assert keyword_problem(key, sent) is None, (key, value, sent)
