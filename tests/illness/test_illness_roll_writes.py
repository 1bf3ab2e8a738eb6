"""Issue 21: one class batch that closes a child's illness absence, adds a late symptom to the
same absence and starts another child's, alongside healthy children with nothing in the
register: the register ends as the head teacher would expect (on PostgreSQL these are one
statement, and the healthy children's records are not read)."""

from __future__ import annotations

from datetime import datetime

import httpx

from app.context import AppContext
from app.db.models import IllnessRecord
from tests.helpers import BEIJING, MONDAY, TUESDAY, event, move, roll, rows
from tests.illness.common import at, sick, sick_roll, students
from tests.world import World


async def test_a_return_a_late_symptom_and_a_new_absence_in_one_batch(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    back, newly, *healthy = await students(world, "A1", 5, 800)
    await sick_roll(client, world, [back], MONDAY, detect=False)
    move(ctx, at(TUESDAY))
    late = event(
        back,
        "leave",
        day=MONDAY,
        check="dismissal",
        at="16:30",
        leave_type="sick",
        illness={
            "symptoms": ["vomiting"],
            "onset_at": datetime(2026, 11, 23, 6, 30, tzinfo=BEIJING).isoformat(),
        },
    )
    batch = [late, event(back, "present"), sick(newly, TUESDAY, symptoms=("fever",))]
    batch += [event(s, "present") for s in healthy]
    await roll(client, world, batch, who="principal")

    [closed] = await rows(ctx, IllnessRecord, IllnessRecord.student_id == back)
    assert (closed.school_date, closed.last_day, closed.returned_on) == (MONDAY, MONDAY, TUESDAY)
    assert closed.symptoms == ["fever", "cough", "vomiting"]
    [started] = await rows(ctx, IllnessRecord, IllnessRecord.student_id == newly)
    assert (started.school_date, started.last_day, started.returned_on) == (TUESDAY, TUESDAY, None)
    assert started.symptoms == ["fever"] and started.grade_id is not None
    assert not await rows(ctx, IllnessRecord, IllnessRecord.student_id.in_(healthy))  # type: ignore[attr-defined]
