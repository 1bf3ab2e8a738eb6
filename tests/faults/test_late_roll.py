"""A roll synced 40 days late (the intake accepts any past school day within the engine's
look-back), then today's absences: today's parent calls are still reported on time — within
the minute the engine itself calls on time — and the month-old ones fire too, once, marked
late. One late row must never hold back anyone else's deadlines (issue 10)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, timedelta

import pytest

from app.context import AppContext
from tests.faults.conftest import FaultRow, Stack, county
from tests.faults.invariants import check_all, rows, wait_drained
from tests.faults.ledger import Ledger, event
from tests.faults.scenario import Staff, at, utc_now

pytestmark = pytest.mark.faults

LATE_DAYS = 40  # 40 days overdue: 3.5e9 ms of lateness, past a 32-bit integer
ON_TIME = timedelta(seconds=60)  # the engine marks a deadline late after 60 s (LATE_AFTER)
SOON = timedelta(seconds=15)  # today's calls fall due this long after today's roll is posted
WAIT = 90  # seconds past the due time before giving up: "on time" is judged on the figures


@pytest.mark.fault("a roll synced 40 days late, then today's absences")
async def test_a_roll_40_days_late_never_holds_back_todays_absences(
    fault_ctx: AppContext, stack: Stack, fault_row: FaultRow
) -> None:
    world, pupils = await county(fault_ctx, 20)
    api = await stack.api()
    engine = await stack.engine("engine-1")
    staff = Staff(world, api.url)
    ledger = Ledger()
    db = fault_ctx.engine
    late_pupils, today_pupils = pupils[:10], pupils[10:]
    try:
        tz = await staff.school_tz()
        today = await staff.today()
        late_day = today - timedelta(days=LATE_DAYS)
        for d in (late_day, today):
            await staff.ensure_school_day(d)
        late_roll = [
            event(sid, late_day, "morning", "absent", at(late_day, "morning", tz))
            for sid in late_pupils
        ]
        await ledger.post_until_answered(staff.client, staff.auth("head_teacher"), late_roll)
        found = utc_now() - timedelta(minutes=60) + SOON
        today_roll = [event(sid, today, "morning", "absent", found) for sid in today_pupils]
        await ledger.post_until_answered(staff.client, staff.auth("head_teacher"), today_roll)
        checks = fault_row.checks
        late_refused = [ledger.answers[e["event_id"]] for e in late_roll]
        checks.expect(
            "the 40-days-late roll is accepted (a past school day in the look-back)",
            all(a == ["accepted"] for a in late_refused),
            f"{late_refused[:2]}",
        )

        due = ledger.contact_due()
        today_due = max(due[sid] for sid in today_pupils)
        give_up = time.monotonic() + (today_due - utc_now()).total_seconds() + WAIT
        while True:
            fired = {
                sid: at_
                for sid, at_ in await rows(
                    db,
                    "SELECT student_id, min(created_at) FROM notification "
                    "WHERE topic = 'contact.overdue' GROUP BY student_id",
                )
            }
            if all(sid in fired for sid in today_pupils) or time.monotonic() > give_up:
                break
            assert engine.alive, engine.tail()
            await asyncio.sleep(0.25)
        lateness = {
            sid: (fired[sid].replace(tzinfo=fired[sid].tzinfo or UTC) - due[sid]).total_seconds()
            for sid in today_pupils
            if sid in fired
        }
        errors = [
            line
            for line in engine.log_text().splitlines()
            if "Error" in line or "out of range" in line
        ]
        checks.counts.update(
            today_reported=f"{len(lateness)}/{len(today_pupils)}",
            worst_lateness_s=round(max(lateness.values(), default=float("nan")), 1),
            engine_errors=len(errors),
        )
        on_time = checks.expect(
            "today's absences fire on time (within 60 s of due) beside a 40-days-late roll",
            len(lateness) == len(today_pupils)
            and all(s <= ON_TIME.total_seconds() for s in lateness.values()),
            f"{len(lateness)} of {len(today_pupils)} parent calls due by {today_due:%H:%M:%S} "
            f"UTC reported within {WAIT} s after, lateness {sorted(lateness.values())[-3:]}; "
            f"engine errors: {errors[-1][:300] if errors else 'none'}",
        )
        if on_time:
            fault_row.recovery["today's calls fired after due (worst)"] = max(lateness.values())
            drained = await wait_drained(ledger, db, within=120)
            fault_row.recovery["month-old backlog drained"] = drained
            marked = dict(
                await rows(
                    db,
                    "SELECT c.student_id, count(*) FROM case_event e JOIN absence_case c "
                    "ON c.id = e.case_id WHERE e.kind = 'deadline.late' GROUP BY c.student_id",
                )
            )
            checks.expect(
                "the month-old calls fire once, marked late; today's are not late",
                all(marked.get(sid) == 1 for sid in late_pupils)
                and not any(sid in marked for sid in today_pupils),
                f"deadline.late per pupil {marked}",
            )
        await check_all(checks, ledger, db)
    finally:
        await staff.close()
