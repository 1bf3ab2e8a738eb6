"""The engine at its edges: deadlines weeks overdue, a row that cannot fire, a long outage's
backlog, periodic jobs that fail on their own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, update

from app.alerts import sweep
from app.context import AppContext
from app.db.models import AbsenceCase, Alert, CaseEvent, Deadline, Notification
from app.delivery.templates import Notice, render
from app.delivery.wording import DIGEST_LATE_TOPIC
from app.jobs import periodic as jobs
from app.jobs.periodic import JOBS, run_job
from app.jobs.runner import EngineRunner
from tests.helpers import FRIDAY, MONDAY, TUESDAY, WEDNESDAY, clock, event, rows
from tests.world import World

URL = "/api/v1/attendance-events"
HEALTH = "/api/v1/engine/health"


async def post(client: httpx.AsyncClient, world: World, who: str, events: list) -> None:  # type: ignore[type-arg]
    r = await client.post(URL, json=events, headers=world.auth(who))
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0, r.text


async def case_of(ctx: AppContext, world: World, student: str) -> AbsenceCase:
    [case] = await rows(ctx, AbsenceCase, AbsenceCase.student_id == world.ids[student])
    return case


# --- no value can stall the sweep -------------------------------------------------------------


async def test_a_deadline_forty_days_overdue_fires_with_its_lateness(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await post(client, world, "head_teacher", [event(world.ids["student_A1"], "absent")])
    clock(ctx).now += timedelta(days=41)  # engines down over a winter break
    result = await sweep.sweep(ctx)
    assert result.failed == 0 and result.fired == 3
    [contact] = await rows(ctx, Deadline, Deadline.kind == "contact")
    assert contact.state == "fired"
    assert contact.lateness_ms is not None and contact.lateness_ms > 2**31  # beyond int32
    late = await rows(ctx, CaseEvent, CaseEvent.kind == "deadline.late")
    assert len(late) == 3 and any("40 天" in e.text for e in late)  # 因停机延迟 40 天 … 触发


async def test_a_roll_synced_forty_days_late_does_not_hold_back_todays_absences(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    late_day = TUESDAY - timedelta(days=42)  # a Tuesday six weeks back
    await post(
        client, world, "head_teacher", [event(world.ids["student_A1"], "absent", day=late_day)]
    )
    await post(client, world, "principal_B", [event(world.ids["student_B1"], "absent")])
    clock(ctx).now += timedelta(minutes=10)  # 09:10: B1's 09:05 parent call is overdue
    result = await sweep.sweep(ctx)
    assert result.failed == 0
    b1 = await case_of(ctx, world, "student_B1")
    [contact] = await rows(ctx, Deadline, Deadline.case_id == b1.id, Deadline.kind == "contact")
    assert contact.state == "fired" and contact.lateness_ms == 5 * 60 * 1000  # on time
    a1 = await case_of(ctx, world, "student_A1")
    [old] = await rows(ctx, Deadline, Deadline.case_id == a1.id, Deadline.kind == "contact")
    assert old.state == "fired" and (old.lateness_ms or 0) > 2**31


async def _poison(ctx: AppContext, case_id: int, due: object) -> int:
    """A deadline whose firing raises: a kind this engine does not know (a row written by a
    newer version, or edited by hand)."""
    async with ctx.engine.begin() as conn:
        got = await conn.execute(
            insert(Deadline).returning(Deadline.id),  # type: ignore[arg-type]
            [
                {
                    "dedupe_key": f"{case_id}:bogus:1",
                    "case_id": case_id,
                    "kind": "bogus",
                    "key": "1",
                    "due_at": due,
                    "state": "pending",
                    "created_at": ctx.clock(),
                }
            ],
        )
        return int(got.scalar_one())


async def test_a_poisoned_deadline_is_set_aside_and_every_other_one_fires(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await post(client, world, "head_teacher", [event(world.ids["student_A1"], "absent")])
    await post(client, world, "principal_B", [event(world.ids["student_B1"], "absent")])
    a1 = await case_of(ctx, world, "student_A1")
    assert a1.id is not None
    # Due first: the claim takes the oldest first, so before the fix it stalled every sweep.
    poison = await _poison(ctx, a1.id, ctx.clock() - timedelta(days=1))
    clock(ctx).now += timedelta(minutes=10)
    first = await sweep.sweep(ctx)
    assert (first.fired, first.failed) == (2, 1)  # both schools' parent calls, and the poison
    contacts = await rows(ctx, Deadline, Deadline.kind == "contact")
    assert [d.state for d in contacts] == ["fired", "fired"]
    [bad] = await rows(ctx, Deadline, Deadline.id == poison)
    assert bad.state == "failed" and bad.attempts == 1
    assert bad.last_error is not None and "bogus" in bad.last_error
    assert bad.retry_at == clock(ctx).now + timedelta(seconds=60)

    health = (await client.get(HEALTH, headers=world.auth("principal"))).json()
    assert health["failed_deadlines"] == 1 and "bogus" in health["failed_last_error"]
    assert health["pending_overdue"] == 0  # set aside, not counted as waiting

    clock(ctx).now += timedelta(seconds=30)
    assert (await sweep.sweep(ctx)).failed == 0  # backing off: not yet
    clock(ctx).now += timedelta(seconds=31)
    assert (await sweep.sweep(ctx)).failed == 1  # tried again, fails again
    [bad] = await rows(ctx, Deadline, Deadline.id == poison)
    assert bad.attempts == 2 and bad.retry_at == clock(ctx).now + timedelta(seconds=120)
    # Repaired (the engine learned the kind, or someone fixed the row): it fires on retry.
    async with ctx.engine.begin() as conn:
        await conn.execute(update(Deadline).where(Deadline.id == poison).values(kind="report"))  # type: ignore[arg-type]
    clock(ctx).now += timedelta(minutes=3)
    again = await sweep.sweep(ctx)
    assert again.failed == 0
    [bad] = await rows(ctx, Deadline, Deadline.id == poison)
    assert bad.state in ("fired", "cancelled")


async def test_a_case_that_cannot_be_read_sets_aside_only_its_own_deadlines(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await post(client, world, "head_teacher", [event(world.ids["student_A1"], "absent")])
    await post(client, world, "principal_B", [event(world.ids["student_B1"], "absent")])
    a1 = await case_of(ctx, world, "student_A1")
    async with ctx.engine.begin() as conn:  # a policy snapshot no engine can read
        await conn.execute(
            update(AbsenceCase).where(AbsenceCase.id == a1.id).values(policy={"blue_to": "janitor"})  # type: ignore[arg-type]
        )
    clock(ctx).now += timedelta(days=3)
    result = await sweep.sweep(ctx)
    assert result.failed == 3  # A1's contact, report and verification
    b1 = await case_of(ctx, world, "student_B1")
    fired = await rows(ctx, Deadline, Deadline.case_id == b1.id)
    assert {d.state for d in fired} == {"fired"} and len(fired) == 3


# --- a long outage drains into digests ----------------------------------------------------------


async def test_after_a_long_outage_late_notices_fold_into_one_digest_per_recipient(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    students = [world.ids["student_A1"]]
    for i in range(4):
        students.append(await world.add_student(f"extra{i}", "class_A1", 20 + i))
    await post(client, world, "head_teacher", [event(s, "absent") for s in students])
    clock(ctx).now += timedelta(days=4)  # the engines were down four days
    result = await sweep.sweep(ctx)
    assert result.fired == 15 and result.failed == 0  # 5 × contact, report, verification
    assert result.digests >= 1 and result.folded > 0
    vp = world.ids["vice_principal"]
    notes = await rows(ctx, Notification, Notification.staff_id == vp)
    digests = [n for n in notes if n.topic == DIGEST_LATE_TOPIC]
    late = [n for n in notes if n.topic != DIGEST_LATE_TOPIC]
    # Every late notice is in the inbox (nothing skipped), none is pushed on its own ...
    assert {n.topic for n in late} == {"contact.overdue", "report.overdue", "alert.escalated"}
    assert len(late) == 15
    assert all(n.dispatched_at is not None and not n.digest_pending for n in late)
    # ... and one digest says how many and of what, to be sent like any notice.
    [digest] = digests
    assert digest.dispatched_at is None
    assert "15 条" in digest.title and digest.school_id == world.ids["school_A"]
    assert len(digest.body.splitlines()) == 15
    rendered = render(Notice(topic=digest.topic, school="学校A", reason=digest.title))
    assert "积压" in rendered.title
    # A second sweep finds nothing more to fold.
    assert (await sweep.sweep(ctx)).digests == 0
    health = (await client.get(HEALTH, headers=world.auth("principal"))).json()
    assert health["digest_pending"] == 0


async def test_a_deadline_late_within_the_horizon_notifies_as_usual(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    await post(client, world, "head_teacher", [event(world.ids["student_A1"], "absent")])
    clock(ctx).now += timedelta(hours=2)  # an engine restart, not an outage
    result = await sweep.sweep(ctx)
    assert result.fired == 1 and result.digests == 0
    [note] = await rows(ctx, Notification, Notification.topic == "contact.overdue")
    assert note.dispatched_at is None and not note.digest_pending


# --- independent jobs ---------------------------------------------------------------------------


async def test_a_failing_job_does_not_stop_the_others_and_health_shows_both(
    ctx: AppContext,
    world: World,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(ctx: AppContext, schools: list[int]) -> int:
        raise RuntimeError("企业微信 token 过期")

    monkeypatch.setattr(jobs, "remind_missing_rolls", broken)
    outcomes = {job.name: await run_job(ctx, job) for job in JOBS}
    assert outcomes == {
        "roll-reminders": False,
        "left-school-overdue": True,
        "return-notices": True,
        "task-reminders": True,
        "vacant-roles": True,
        "care-reminders": True,
        "absence-measures": True,
        "access-log-purge": True,
        "monthly-report-reminders": True,
        "transfer-moves": True,
        "guardian-notices": True,
        "illness-clusters": True,
        "illness-overdue": True,
        "illness-certificates": True,
        "attendance-partitions": True,
    }
    await run_job(ctx, JOBS[0])  # fails again next minute
    health = (await client.get(HEALTH, headers=world.auth("principal"))).json()
    by_name = {j["name"]: j for j in health["jobs"]}
    roll = by_name["roll-reminders"]
    assert roll["label"] == "未点名提醒"
    assert (roll["failing"], roll["failures"], roll["runs"]) == (2, 2, 2)
    assert "token 过期" in roll["last_error"] and roll["last_success_at"] is None
    notices = by_name["return-notices"]
    assert notices["last_success_at"] is not None and notices["failing"] == 0
    assert by_name["deadline-sweep"]["runs"] == 0  # listed before any engine ran it

    monkeypatch.undo()
    assert await run_job(ctx, JOBS[0])
    health = (await client.get(HEALTH, headers=world.auth("principal"))).json()
    roll = {j["name"]: j for j in health["jobs"]}["roll-reminders"]
    assert roll["failing"] == 0 and roll["failures"] == 2 and roll["last_success_at"]


async def test_the_runner_schedules_every_job_on_its_own(ctx: AppContext) -> None:
    runner = EngineRunner(ctx)
    try:
        runner.start()
        ids = {j.id for j in runner.scheduler.get_jobs()}
        assert {job.name for job in JOBS} <= ids
        assert {"engine-sweep", "delivery"} <= ids
    finally:
        await runner.stop()


async def test_stopping_the_runner_lets_a_running_job_finish_and_cancels_one_past_grace(
    ctx: AppContext,
) -> None:
    """SIGTERM mid-job: the short job's transaction completes; the stuck one is cancelled and
    its cleanup awaited, so stop() returns and no job is left holding a connection."""
    import asyncio

    finished: list[str] = []
    cleaned: list[str] = []

    async def short() -> None:
        await asyncio.sleep(0.2)
        finished.append("short")

    async def stuck() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned.append("stuck")

    runner = EngineRunner(ctx)
    tasks = [asyncio.create_task(runner._job(short)()), asyncio.create_task(runner._job(stuck)())]
    await asyncio.sleep(0.05)
    assert len(runner._running) == 2
    await asyncio.wait_for(runner.stop(grace_seconds=0.5), timeout=5)
    assert finished == ["short"] and cleaned == ["stuck"]
    assert all(t.done() for t in tasks) and not runner._running


async def test_a_failed_sweep_is_recorded(
    ctx: AppContext, world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(ctx: AppContext) -> None:
        raise ConnectionRefusedError("database restarting")

    runner = EngineRunner(ctx)
    try:
        monkeypatch.setattr(sweep, "sweep", down)
        await runner.tick()
        monkeypatch.undo()
        await runner.tick()
    finally:
        await runner.stop()
    health = (await client.get(HEALTH, headers=world.auth("principal"))).json()
    job = {j["name"]: j for j in health["jobs"]}["deadline-sweep"]
    assert job["runs"] == 2 and job["failures"] == 1 and job["failing"] == 0
    assert "restarting" in job["last_error"]


# --- simultaneous rolls -------------------------------------------------------------------------


def _checks(students: list[int], pattern: dict[int, str]) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """The class's three checks; ``pattern`` per student index: which checks find them absent
    (m, n, d), the others present."""
    out: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for check, letter, at in (
        ("morning", "m", "08:05"),
        ("noon", "n", "12:30"),
        ("dismissal", "d", "16:30"),
    ):
        out[check] = [
            event(
                s,
                "absent" if letter in pattern[i % len(pattern)] else "present",
                check=check,
                at=at,
            )
            for i, s in enumerate(students)
        ]
    return out


async def _shape(ctx: AppContext, students: list[int], *, live: bool) -> list[tuple[object, ...]]:
    """Per student (in order): cases, alert levels, deadline kinds, notice topics. ``live``:
    only what stands (cases not closed, alerts not withdrawn), which cannot depend on the
    order the checks arrived in; otherwise the history too."""
    out = []
    for sid in students:
        cases = await rows(ctx, AbsenceCase, AbsenceCase.student_id == sid)
        alerts = await rows(ctx, Alert, Alert.student_id == sid)
        if live:
            cases = [c for c in cases if c.status != "closed"]
            alerts = [a for a in alerts if a.status != "withdrawn"]
        ids = [c.id for c in cases]
        deadlines = sorted(d.kind for d in await rows(ctx, Deadline) if d.case_id in ids)
        notes = await rows(ctx, Notification, Notification.student_id == sid)
        topics = sorted(n.topic for n in notes if n.case_id in ids)
        out.append(
            (
                [(c.status, c.level, c.run) for c in cases],
                sorted(a.level for a in alerts),
                deadlines,
                topics,
            )
        )
    return out


async def test_a_class_s_three_checks_posted_at_once_are_judged_as_if_one_by_one(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    clock(ctx).now += timedelta(hours=8)  # 17:00 Beijing: all three checks are past
    together = [await world.add_student(f"t{i}", "class_A1", 30 + i) for i in range(8)]
    alone = [await world.add_student(f"s{i}", "class_A1", 50 + i) for i in range(8)]
    pattern = {0: "mnd", 1: "m", 2: "nd", 3: "d", 4: "mn", 5: "", 6: "mnd", 7: "n"}
    headers = world.auth("head_teacher")

    concurrent = _checks(together, pattern)
    answers = await asyncio.gather(
        *(client.post(URL, json=batch, headers=headers) for batch in concurrent.values()),
        # The county system posting the morning roll again (its own event ids) at once.
        client.post(URL, json=_checks(together, pattern)["morning"], headers=headers),
    )
    assert [r.status_code for r in answers] == [200, 200, 200, 200], [r.text for r in answers]
    assert all(r.json()["accepted"] == 8 for r in answers)
    assert all(x["result"] == "accepted" for r in answers for x in r.json()["results"])

    for batch in _checks(alone, pattern).values():
        await post(client, world, "head_teacher", batch)
    await post(client, world, "head_teacher", _checks(alone, pattern)["morning"])

    # What stands is the same whatever the order; a student absent at every check, or at
    # none, has the same history too. (Absent in the morning and back at noon: posted in
    # that order a case opens and closes; noon's roll committed first, none opens.)
    assert await _shape(ctx, together, live=True) == await _shape(ctx, alone, live=True)
    same = [i for i in range(8) if pattern[i] in ("mnd", "")]
    assert await _shape(ctx, [together[i] for i in same], live=False) == await _shape(
        ctx, [alone[i] for i in same], live=False
    )
    opened = await rows(ctx, AbsenceCase)
    current = [c for c in opened if c.status != "closed"]
    assert len({c.student_id for c in current}) == len(current)  # one open case per student
    keys = [(a.case_id, a.key) for a in await rows(ctx, Alert)]
    assert len(set(keys)) == len(keys)  # no alert twice


# --- corrections after closure --------------------------------------------------------------


async def test_a_correction_after_the_case_closed_withdraws_its_alert_and_says_so(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    await post(client, world, "head_teacher", [event(sid, "absent")])
    clock(ctx).now += timedelta(days=1)  # Wednesday: back at school, the case closes
    await post(client, world, "head_teacher", [event(sid, day=WEDNESDAY)])
    [case] = await rows(ctx, AbsenceCase)
    assert (case.status, case.close_reason) == ("closed", "returned")
    [alert] = await rows(ctx, Alert)
    assert alert.status == "raised"
    # Thursday the head teacher finds Tuesday's roll was wrong: the student was there.
    clock(ctx).now += timedelta(days=1)
    await post(client, world, "head_teacher", [event(sid, "present", at="08:30")])
    [alert] = await rows(ctx, Alert)
    assert alert.status == "withdrawn" and "结案后" in (alert.withdrawn_reason or "")
    [case] = await rows(ctx, AbsenceCase)
    assert (case.status, case.close_reason) == ("closed", "returned")  # still closed
    topics = [
        n.topic
        for n in sorted(
            await rows(ctx, Notification, Notification.staff_id == world.ids["head_teacher"]),
            key=lambda n: n.id,
        )
    ]
    assert topics == ["alert.raised", "alert.withdrawn"]
    corrected = await rows(ctx, CaseEvent, CaseEvent.kind == "case.corrected")
    assert len(corrected) == 1
    # The same correction posted again changes nothing more.
    await post(client, world, "head_teacher", [event(sid, "present", at="08:40")])
    assert len(await rows(ctx, Notification, Notification.topic == "alert.withdrawn")) == 1


async def test_a_correction_after_red_closed_withdraws_only_what_it_takes_away(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    thu, fri, mon = (TUESDAY - timedelta(days=d) for d in (5, 4, 1))
    await post(
        client, world, "head_teacher", [event(sid, "absent", day=d) for d in (thu, fri, mon)]
    )
    await post(client, world, "head_teacher", [event(sid, day=TUESDAY)])  # back: awaiting 复学
    [case] = await rows(ctx, AbsenceCase)
    assert case.status == "awaiting_reenrollment"
    r = await client.post(
        f"/api/v1/cases/{case.id}/reenrollment", json={}, headers=world.auth("head_teacher")
    )
    assert r.status_code == 200, r.text
    [case] = await rows(ctx, AbsenceCase)
    assert case.status == "closed"
    # Thursday was a roll mistake: two days remain, so yellow stands and red goes.
    await post(client, world, "head_teacher", [event(sid, "present", day=thu, at="09:00")])
    alerts = {a.level: a.status for a in await rows(ctx, Alert)}
    assert alerts == {"blue": "raised", "yellow": "raised", "red": "withdrawn"}
    told = await rows(ctx, Notification, Notification.topic == "alert.withdrawn")
    assert {n.staff_id for n in told} == {world.ids["principal"]}


# --- bad input: a roll for a day long past --------------------------------------------------------


async def test_a_roll_sixty_days_back_is_recorded_but_raises_nothing(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    sid = world.ids["student_A1"]
    sixty = TUESDAY - timedelta(days=61)  # Thursday 24 September (the 25th is 中秋节)
    too_old = TUESDAY - timedelta(days=91)  # beyond the 90-day back-fill window
    r = await client.post(
        URL,
        json=[event(sid, "absent", day=sixty), event(sid, "absent", day=too_old)],
        headers=world.auth("head_teacher"),
    )
    assert r.status_code == 200, r.text
    ok, old = r.json()["results"]
    assert ok["result"] == "accepted", ok
    assert (old["result"], old["code"]) == ("rejected", "too_old")
    assert "90" in old["reason"]
    marks = await client.get(
        f"/api/v1/students/{sid}/attendance",
        params={"start": sixty.isoformat(), "end": sixty.isoformat()},
        headers=world.auth("head_teacher"),
    )
    assert marks.status_code == 200 and sixty.isoformat() in marks.text  # in the class log
    # Beyond the engine's 45-day lookback: no case, no alert, no deadline, nobody told.
    assert await rows(ctx, AbsenceCase) == []
    assert await rows(ctx, Deadline) == []
    assert await rows(ctx, Notification) == []
    # And today's absence is judged as ever.
    await post(client, world, "head_teacher", [event(sid, "absent")])
    [case] = await rows(ctx, AbsenceCase)
    assert case.run == [TUESDAY.isoformat()] and case.level == "blue"


async def test_the_return_notice_check_locks_its_cases_at_once_in_case_id_order(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    from sqlalchemy import event as sa_event

    from app.casework.return_notices import check_overdue_notices

    first = world.ids["student_A1"]
    second = await world.add_student("red2", "class_A1", 70)
    for sid in (first, second):
        await post(
            client,
            world,
            "head_teacher",
            [event(sid, "absent", day=d) for d in (FRIDAY, MONDAY, TUESDAY)],
        )
    cases = {c.student_id: c.id for c in await rows(ctx, AbsenceCase)}
    # Notices issued in the other order: notice order is not case order.
    for sid in (second, first):
        r = await client.post(
            f"/api/v1/cases/{cases[sid]}/return-notice", json={}, headers=world.auth("principal")
        )
        assert r.status_code == 201, r.text
    seen: list[str] = []

    def capture(conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        # Statements loading whole cases (the 控辍 status pass reads only students' 复学 dates).
        if "absence_case.policy" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    sa_event.listen(ctx.engine.sync_engine, "before_cursor_execute", capture)
    try:
        clock(ctx).now += timedelta(days=10)  # past the deadline: both escalate
        out = await check_overdue_notices(ctx)
    finally:
        sa_event.remove(ctx.engine.sync_engine, "before_cursor_execute", capture)
    assert out.escalated == 2
    [lock] = seen  # one statement for every case, not one per notice in notice order
    assert "ORDER BY absence_case.id" in lock
    if ctx.settings.database_url.startswith("postgresql"):
        assert "FOR UPDATE" in lock


def test_an_unreachable_database_is_not_a_poisoned_deadline() -> None:
    from sqlalchemy.exc import DataError, OperationalError

    class Orig(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    overflow = DataError("UPDATE deadline ...", {}, Orig("22003"))  # integer out of range
    deadlock = DataError("...", {}, Orig("40P01"))
    shutdown = DataError("...", {}, Orig("57P01"))  # PostgreSQL restarting
    assert not sweep._transient(overflow)  # the row's fault: set it aside
    assert not sweep._transient(ValueError("'bogus' is not a valid DeadlineKind"))
    assert sweep._transient(deadlock) and sweep._transient(shutdown)
    assert sweep._transient(OperationalError("...", {}, Orig("08006")))
    assert sweep._transient(ConnectionRefusedError())


def test_a_database_error_is_shown_without_its_statement_or_parameters() -> None:
    from sqlalchemy.exc import DataError

    error = DataError(
        "INSERT INTO notification (title) VALUES ($1)",
        ("张小明 缺勤",),
        ValueError("value too long"),
    )
    shown = sweep.describe(error)
    assert shown == "ValueError: value too long"
    assert "张小明" not in shown and "INSERT" not in shown


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["contact.overdue", "report.overdue", "alert.escalated", "no.such"]),
            st.text(min_size=0, max_size=200),
            st.sampled_from([None, "blue", "yellow", "red"]),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_a_digest_counts_every_notice_it_folds_and_fits_the_outbox(
    items: list[tuple[str, str, str | None]],
) -> None:
    from datetime import UTC, datetime

    from app.alerts.engine_repo import Held

    when = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    held = [
        Held(i + 1, 7, 3, "vice_principal", t, title, lv, when)
        for i, (t, title, lv) in enumerate(items)
    ]
    row = sweep._digest((7, 3, "vice_principal"), held, when).row()
    assert f"{len(items)} 条" in row["title"] and len(row["title"]) <= 200
    assert len(row["body"]) <= 2000
    listed = row["body"].count("\n") + 1
    assert listed == len(items) or f"共 {len(items)} 条" in row["body"]
    levels = [lv for _, _, lv in items if lv]
    order = ["blue", "yellow", "red"]
    assert row["level"] == (max(levels, key=order.index) if levels else None)
    assert row["idem_key"] == "digest:1:7"


async def test_a_case_with_a_failed_deadline_is_still_shown_with_it_owed(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    """The sweep sets a deadline aside as ``failed`` after an error (e.g. a deadlock); the
    case's page must still answer and show the call as owed, not answer 500."""
    await post(client, world, "head_teacher", [event(world.ids["student_A1"], "absent")])
    a1 = await case_of(ctx, world, "student_A1")
    async with ctx.engine.begin() as conn:
        await conn.execute(
            update(Deadline)  # type: ignore[arg-type]
            .where(Deadline.case_id == a1.id, Deadline.kind == "contact")
            .values(state="failed", attempts=1, last_error="deadlock detected")
        )
    got = await client.get(f"/api/v1/cases/{a1.id}", headers=world.auth("principal"))
    assert got.status_code == 200, got.text
    [contact] = [d for d in got.json()["pending_deadlines"] if d["kind"] == "contact"]
    assert (contact["state"], contact["owed"]) == ("failed", True)
    assert contact["state_label"] == "触发出错,稍后重试"
