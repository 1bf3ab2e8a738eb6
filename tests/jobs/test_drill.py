"""A drill as a school and its county would run one: the deployment's one clock, kept in the
database, started at a chosen date and moved by the county; everything the engine does on its
timers happens at the simulated moment it would have happened; sign-in stays on real time; an
engine process beside the API fires on the same clock; a restart keeps it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.context import AppContext
from app.core.clock import SharedClock
from app.db.models import Deadline, Notification, SimClockMove
from app.domain.roles import Role
from app.jobs import sim_clock
from app.settings import Settings
from tests.fakes.server import serve as local_server
from tests.helpers import BEIJING, event
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]
CLOCK = "/api/v1/sim/clock"
START = datetime(2026, 8, 31, 8, 0, tzinfo=BEIJING)  # Monday, first day of the autumn term
# Three school weeks, Monday 31 August to Friday 18 September 2026: no holiday, no 调休.
WEEKDAYS = [START.date() + timedelta(days=i) for i in range(19) if (i % 7) < 5]
CHECKS = (time(8, 30), time(14, 0), time(17, 0))  # 晨检 午检 放学前 + 30 min grace
HOOK_SECRET = "whsec_" + base64.b64encode(b"drill-secret-0123456789ab").decode()


@pytest.fixture
async def drill(ctx: AppContext) -> AsyncIterator[AppContext]:
    """The test context as a drill deployment started at ``START``."""
    s = ctx.settings
    saved = (s.simulation_clock, s.simulation_clock_start, s.drill_county, ctx.clock)
    s.simulation_clock = True
    s.simulation_clock_start = START
    ctx.clock = SharedClock()
    await sim_clock.attach(ctx)
    try:
        yield ctx
    finally:
        s.simulation_clock, s.simulation_clock_start, s.drill_county, ctx.clock = saved


@pytest.fixture
async def school(drill: AppContext) -> World:
    """The world's county is the drill's (KCBX_DRILL_COUNTY): its admin moves the clock."""
    world = await build_world(drill)
    drill.settings.drill_county = world.ids["county"]
    await world.add_staff("head_A2", Role.head_teacher, "class_A2", "drill-pass-1")
    return world


async def move(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(CLOCK, json=body, headers=headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def now_of(client: httpx.AsyncClient, headers: dict[str, str]) -> datetime:
    r = await client.get(CLOCK, headers=headers)
    assert r.status_code == 200, r.text
    return at(r.json()["now"])


async def roll_reminders(ctx: AppContext, staff_id: int) -> list[datetime]:
    async with ctx.uow() as uow:
        found = await uow.session.exec(
            select(Notification.created_at).where(
                Notification.staff_id == staff_id, Notification.topic == "roll.missing"
            )
        )
        return sorted(found)


async def deadlines(ctx: AppContext) -> list[Deadline]:
    async with ctx.uow() as uow:
        return list(await uow.session.exec(select(Deadline).order_by(Deadline.id)))


def beijing(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, BEIJING).astimezone(UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def drill_key(client: httpx.AsyncClient, world: World, *scopes: str) -> dict[str, str]:
    r = await client.post(
        "/api/v1/api-keys",
        json={"name": "县演练系统", "county_id": world.ids["county"], "scopes": list(scopes)},
        headers=world.auth("county_admin"),
    )
    assert r.status_code in (200, 201), r.text
    assert r.json()["scopes"] == list(scopes)
    return {"X-API-Key": r.json()["key"]}


async def test_three_school_weeks_drilled_from_the_first_day_of_term(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    w = school
    staff = w.auth("head_teacher")
    assert await now_of(client, staff) == START  # the configured start, not the wall clock
    plain = await drill_key(client, w)
    key = await drill_key(client, w, "drill")
    for who in (plain, w.auth("principal"), staff):
        r = await client.post(CLOCK, json={"advance_minutes": 5}, headers=who)
        assert r.status_code == 403, r.text

    # Monday 08:00: class A1 takes the morning roll (one child absent); A2 takes none.
    sid = w.ids["student_A1"]
    day1 = START.date()
    r = await client.post(
        "/api/v1/attendance-events",
        json=[event(sid, "absent", day=day1, at="08:00")],
        headers=staff,
    )
    assert r.json()["accepted"] == 1, r.text
    await move(client, key, advance_minutes=20)  # 08:20: nothing is late yet
    assert await roll_reminders(drill, w.ids["head_A2"]) == []
    await move(client, key, advance_minutes=10)  # 08:30: check time plus grace
    assert await roll_reminders(drill, w.ids["head_A2"]) == [beijing(day1, CHECKS[0])]
    assert await roll_reminders(drill, w.ids["head_teacher"]) == []  # A1 took its roll

    # A 13-hour jump, then a fresh sign-in on real time.
    jumped = await move(client, key, advance_minutes=13 * 60)
    assert at(jumped["now"]) == START + timedelta(minutes=30, hours=13)
    mobile = await _mobile(client, w, "head_A2")
    r = await client.post(
        "/api/v1/auth/token", data={"username": mobile, "password": "drill-pass-1"}
    )
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = await client.get("/api/v1/auth/me", headers=fresh)
    assert me.status_code == 200, me.text

    # The county's key reads the case while the drill goes on; then three weeks in steps.
    cases = await client.get("/api/v1/cases", headers=key)
    assert cases.status_code == 200, cases.text
    assert cases.json()["total"] == 1
    await move(client, w.auth("county_admin"), advance_minutes=2 * 24 * 60)
    end = beijing(WEEKDAYS[-1], time(23, 0))
    moved = await move(client, key, set=end.isoformat())
    assert moved["reached_target"] is True

    # A2 never took a roll: one reminder per check of every school day, each on time.
    expected = [beijing(d, c) for d in WEEKDAYS for c in CHECKS]
    assert await roll_reminders(drill, w.ids["head_A2"]) == expected
    # A1 took Monday's morning roll only.
    assert await roll_reminders(drill, w.ids["head_teacher"]) == expected[1:]
    fired = [d for d in await deadlines(drill) if d.state == "fired"]
    assert fired, "the absence's deadlines fired on the way"
    assert all(d.fired_at == d.due_at and d.lateness_ms == 0 for d in fired)

    r = await client.get(CLOCK, headers=staff)
    log = r.json()
    assert at(log["now"]) == end and log["may_move"] is False
    kinds = [(m["kind"], m["actor_kind"]) for m in reversed(log["moves"])]
    assert kinds == [
        ("start", "system"),
        ("advance", "api_key"),
        ("advance", "api_key"),
        ("advance", "api_key"),
        ("advance", "staff"),
        ("set", "api_key"),
    ]
    last = log["moves"][0]
    assert at(last["from_time"]) == START + timedelta(days=2, hours=13, minutes=30)
    assert at(last["to_time"]) == at(last["reached"]) == end
    since = at(last["from_time"])
    assert last["summary"]["notices"]["roll.missing"] == 2 * len([e for e in expected if e > since])
    assert last["summary"]["job_errors"] == 0


async def _mobile(client: httpx.AsyncClient, w: World, who: str) -> str:
    r = await client.get("/api/v1/staff", headers=w.auth("principal"))
    return str(next(s["mobile"] for s in r.json()["items"] if s["id"] == w.ids[who]))


async def test_bad_moves_answer_4xx_and_change_nothing(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    admin = school.auth("county_admin")
    sid = school.ids["student_A1"]
    await move(client, admin, advance_minutes=24 * 60)
    r = await client.post(
        "/api/v1/attendance-events",
        json=[event(sid, "absent", day=(START + timedelta(days=1)).date(), at="08:00")],
        headers=school.auth("head_teacher"),
    )
    assert r.json()["accepted"] == 1, r.text
    before = await now_of(client, admin)
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"set": START.isoformat()}, 409, "attendance_event"),
        ({"advance_minutes": -5}, 422, "advance_minutes"),
        ({"advance_minutes": 0}, 422, "advance_minutes"),
        ({"advance_minutes": 366 * 24 * 60 + 1}, 422, "advance_minutes"),
        ({"set": (before + timedelta(days=367)).isoformat()}, 422, "set"),
        ({"set": "2026-09-01T08:00:00"}, 422, "set"),  # no timezone
        ({"advance_minutes": 5, "set": before.isoformat()}, 422, ""),
        ({"advance_minutes": "soon"}, 422, "advance_minutes"),
    ]
    for body, status, says in bad:
        r = await client.post(CLOCK, json=body, headers=admin)
        assert r.status_code == status, (body, r.text)
        assert says in r.text, (body, r.text)
    log = (await client.get(CLOCK, headers=admin)).json()
    assert datetime.fromisoformat(log["now"]) == before
    assert [m["kind"] for m in log["moves"]] == ["advance", "start"]


async def test_back_is_allowed_over_nothing_recorded(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    """The roster was imported (on real time) before: the term can still be drilled."""
    admin = school.auth("county_admin")
    await move(client, admin, advance_minutes=20)  # before 08:30: no roll reminder yet
    earlier = START - timedelta(days=7)
    back = await move(client, admin, set=earlier.isoformat())
    assert at(back["now"]) == earlier
    assert await now_of(client, admin) == earlier
    await move(client, admin, advance_minutes=60 + 7 * 24 * 60)  # 08:30 is written now
    refused = await client.post(CLOCK, json={"set": earlier.isoformat()}, headers=admin)
    assert refused.status_code == 409
    assert "notification.created_at" in refused.text and "2026-08-31T00:30:00" in refused.text


async def test_two_moves_at_once_one_is_refused(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    admin = school.auth("county_admin")
    first, second = await asyncio.gather(
        client.post(CLOCK, json={"advance_minutes": 3 * 24 * 60}, headers=admin),
        client.post(CLOCK, json={"advance_minutes": 3 * 24 * 60}, headers=admin),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert await now_of(client, admin) == START + timedelta(days=3)


async def test_the_clock_endpoints_are_off_in_production(
    ctx: AppContext, client: httpx.AsyncClient
) -> None:
    world = await build_world(ctx)
    real = {
        "environment": "production",
        "secret_key": "x" * 40,
        "data_key": "ZGVtby1kYXRhLWtleS1jaGFuZ2UtbWUtMDAwMDAwMTE=",
        "seed_demo": False,
    }
    for drill_settings in ({"simulation_clock": True}, {"simulation_clock_start": START}):
        with pytest.raises(ValueError, match="simulation clock"):
            Settings(**real, **drill_settings)
    for alone in ({"simulation_clock_start": START}, {"drill_county": 1}):
        with pytest.raises(ValueError, match="KCBX_SIMULATION_CLOCK=true"):
            Settings(**alone)  # a start or a drill county alone is a mistake, said so
    with pytest.raises(ValueError, match="simulation clock"):
        Settings(**real, drill_county=1)
    saved = ctx.settings.environment
    ctx.settings.environment = "production"
    try:
        for r in (
            await client.get(CLOCK, headers=world.auth("county_admin")),
            await client.post(
                CLOCK, json={"advance_minutes": 5}, headers=world.auth("county_admin")
            ),
        ):
            assert r.status_code == 404 and "生产环境" in r.text, r.text
    finally:
        ctx.settings.environment = saved
    async with ctx.uow() as uow:
        assert list(await uow.session.exec(select(SimClockMove))) == []


async def test_a_restart_keeps_the_clock(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    await move(client, school.auth("county_admin"), advance_minutes=5 * 24 * 60)
    later_start = START + timedelta(days=30)  # a changed setting does not move a running drill
    settings = Settings(
        environment="test",
        database_url=drill.settings.database_url,
        simulation_clock=True,
        simulation_clock_start=later_start,
    )
    restarted = AppContext.from_settings(settings)
    try:
        await sim_clock.attach(restarted)
        assert restarted.clock() == START + timedelta(days=5)
    finally:
        await restarted.close()


def _engine_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCBX_")}
    env.update(
        KCBX_DATABASE_URL=url,
        KCBX_ENVIRONMENT="test",
        KCBX_SIMULATION_CLOCK="true",
        KCBX_ENGINE_POLL_SECONDS="0.2",
        KCBX_SEED_DEMO="false",
    )
    return env


async def _wait_for(probe: Any, seconds: float = 60) -> Any:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while loop.time() < until:
        got = await probe()
        if got:
            return got
        await asyncio.sleep(0.2)
    return await probe()


async def test_an_engine_process_beside_the_api_fires_on_the_shared_clock(
    drill: AppContext, school: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The wall clock is months past the drill: an engine on its own clock would fire the
    24-hour report deadline at once. On the shared clock it fires only the hour's phone call,
    at the simulated time, and the report when the county moves the clock a day on."""
    admin = school.auth("county_admin")
    sid = school.ids["student_A1"]
    # 10:30: the morning roll is recorded late; the phone call (1 hour) is due already.
    await move(client, admin, advance_minutes=150)
    r = await client.post(
        "/api/v1/attendance-events",
        json=[event(sid, "absent", day=START.date(), at="08:00")],
        headers=school.auth("head_teacher"),
    )
    assert r.json()["accepted"] == 1, r.text
    pending = await deadlines(drill)
    assert pending and all(d.state == "pending" for d in pending)
    now = START + timedelta(minutes=150)
    due_now = {d.id for d in pending if d.due_at <= now}
    assert due_now, "the phone-call deadline is due at the drill's time"

    log_path = tmp_path / "engine.log"
    log_file = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.jobs",
        cwd=ROOT,
        env=_engine_env(drill.settings.database_url),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log_file,
    )
    try:

        async def fired_by_engine() -> list[Deadline]:
            return [d for d in await deadlines(drill) if d.id in due_now and d.state == "fired"]

        fired = await _wait_for(fired_by_engine)
        assert len(fired) == len(due_now), "the engine fired what the shared clock made due"
        assert all(d.fired_at == now for d in fired)  # simulated, not the engine's wall clock
        await asyncio.sleep(1.0)  # several more ticks
        later = [d for d in await deadlines(drill) if d.id not in due_now]
        assert later and all(d.state == "pending" for d in later if d.due_at > now)

        # The county moves the clock a day on, with the engine still running: each deadline
        # fires once, at its own due time.
        await move(client, admin, advance_minutes=24 * 60)
        await asyncio.sleep(0.6)
        after = await deadlines(drill)
        day_later = now + timedelta(days=1)
        assert all(d.state != "pending" for d in after if d.due_at <= day_later)
        assert all(
            d.fired_at == d.due_at for d in after if d.state == "fired" and d.id not in due_now
        )
        assert proc.returncode is None, "the engine kept running"
        # Every job of the engine worked through the drill (its own shutdown is not judged).
        seen = log_path.read_text(errors="replace")
        assert "engine running" in seen
        assert "Traceback" not in seen and "failed" not in seen, seen[-3000:]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log_file.close()


def _receiver(drill: AppContext, got: dict[str, list[tuple[datetime, Any]]]) -> Starlette:
    """A county system's webhook (fails once, then takes it; checks the signature on real
    time) and a 企业微信 robot, noting the simulated time each arrived at."""

    async def hook(request: Request) -> Response:
        body = await request.body()
        try:  # the off-the-shelf verifier checks freshness on its own (real) clock
            Webhook(HOOK_SECRET).verify(body, dict(request.headers))
        except WebhookVerificationError:
            return JSONResponse({"error": "bad or stale signature"}, status_code=401)
        got["hook"].append((drill.clock(), json.loads(body)))
        if len(got["hook"]) == 1:
            return Response(status_code=503)
        return JSONResponse({"ok": True})

    async def robot(request: Request) -> Response:
        got["robot"].append((drill.clock(), await request.json()))
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    return Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/robot", robot, methods=["POST"])]
    )


async def test_deliveries_in_a_drill_keep_quiet_hours_and_retry_on_the_drilled_clock(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    got: dict[str, list[tuple[datetime, Any]]] = {"hook": [], "robot": []}
    principal, admin = school.auth("principal"), school.auth("county_admin")
    async with local_server(_receiver(drill, got)) as base:
        sid = school.ids["school_A"]
        for path, body in (
            (
                f"/api/v1/schools/{sid}/channels/wecom_robot",
                {"url": f"{base}/robot?key=drill-robot-key"},
            ),
            (f"/api/v1/schools/{sid}/delivery", {"routes": {"head_teacher": ["wecom_robot"]}}),
        ):
            r = await client.put(path, json=body, headers=principal)
            assert r.status_code == 200, r.text
        r = await client.post(
            "/api/v1/webhook-subscriptions",
            json={
                "county_id": school.ids["county"],
                "url": f"{base}/hook",
                "secret": HOOK_SECRET,
                "events": ["alert.raised"],
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        # The day's missed rolls go to the robot by day; at 22:30 (quiet hours, 22:00-07:00)
        # a late dismissal roll marks a child absent: a blue alert.
        night = beijing(START.date(), time(22, 30))
        await move(client, admin, set=night.isoformat())
        r = await client.post(
            "/api/v1/attendance-events",
            json=[
                event(
                    school.ids["student_A1"],
                    "absent",
                    check="dismissal",
                    day=START.date(),
                    at="22:30",
                )
            ],
            headers=school.auth("head_teacher"),
        )
        assert r.json()["accepted"] == 1, r.text
        moved = await move(client, admin, set=beijing(date(2026, 9, 1), time(8, 0)).isoformat())
    assert moved["drill"]["job_errors"] == 0, moved["drill"]["errors"]
    robot_times = [t.astimezone(BEIJING).time() for t, _ in got["robot"]]
    assert robot_times and all(time(7) <= t < time(22) for t in robot_times), robot_times
    alert_at = [t for t, body in got["robot"] if "缺勤" in json.dumps(body, ensure_ascii=False)]
    assert alert_at == [beijing(date(2026, 9, 1), time(7, 0))]  # held to the end of quiet hours
    # The webhook is not held: tried at 22:30, refused (503), retried seconds later in the
    # drill's time, each signed on real time (months after the simulated time).
    [(first, event1), (second, event2)] = got["hook"]
    assert first == night and event1["id"] == event2["id"]
    assert timedelta(seconds=3) <= second - first <= timedelta(seconds=10)


async def test_only_the_operator_and_the_drill_county_move_the_clock(
    drill: AppContext, school: World, client: httpx.AsyncClient
) -> None:
    """A neighbouring county's admin may read the drill's clock, never move it; with no drill
    county configured only the operator moves it."""
    await school.add_operator()
    await school.add_staff("county_admin_other", Role.county_admin, "county_other")
    neighbour, admin = school.auth("county_admin_other"), school.auth("county_admin")
    assert (await client.get(CLOCK, headers=neighbour)).json()["may_move"] is False
    r = await client.post(CLOCK, json={"advance_minutes": 5}, headers=neighbour)
    assert r.status_code == 403 and "KCBX_DRILL_COUNTY" in r.text, r.text
    await move(client, admin, advance_minutes=5)
    await move(client, await drill_key(client, school, "drill"), advance_minutes=5)
    drill.settings.drill_county = None
    assert (await client.get(CLOCK, headers=admin)).json()["may_move"] is False
    r = await client.post(CLOCK, json={"advance_minutes": 5}, headers=admin)
    assert r.status_code == 403, r.text
    await move(client, school.auth("operator"), advance_minutes=5)
    moves = (await client.get(CLOCK, headers=admin)).json()["moves"]
    assert [m["actor_name"] for m in moves[:3]] == ["运维", "县演练系统", "county_admin"]
    assert await now_of(client, admin) == START + timedelta(minutes=15)
