"""疑似辍学 and 辍学 counted from the child's days, through the API on the simulation clock:
the county's ledgers and rates read the status history, as of any date, the same however
late they are read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.context import AppContext
from app.db.models import CaseTask, Deadline, DropoutStatusPeriod
from app.domain.calendar import SchoolCalendar, Term
from tests.helpers import count, event, move, post, roll, rows
from tests.world import World

TERM = Term("秋季学期", date(2026, 9, 1), date(2027, 1, 20))
SCHOOL_DAYS = SchoolCalendar(terms=(TERM,)).school_days_between(date(2026, 9, 7), TERM.end)
LEDGER = "/api/v1/ledgers/county"


def at(ctx: AppContext, day: date, hour: int = 9) -> None:
    move(ctx, datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=UTC))


async def with_term(world: World, client: httpx.AsyncClient) -> None:
    for school in ("school_A", "school_B"):
        r = await client.post(
            f"/api/v1/schools/{world.ids[school]}/terms",
            json={"name": TERM.name, "start_date": "2026-09-01", "end_date": "2027-01-20"},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 201, r.text


async def absent_days(
    client: httpx.AsyncClient, world: World, ctx: AppContext, student: str, days: list[date]
) -> None:
    """The student absent at the morning check of each day, recorded that morning."""
    for d in days:
        at(ctx, d)
        await roll(client, world, [event(world.ids[student], "absent", day=d)], "principal")


async def ledger(
    client: httpx.AsyncClient, world: World, kind: str, as_of: date | None = None
) -> list[tuple[str, str, str]]:
    params: dict[str, Any] = {"county_id": world.ids["county"], "kind": kind}
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    r = await client.get(LEDGER, params=params, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    return [(x["student_name"], x["date"], x["basis"]) for x in r.json()["rows"]]


def names(rows: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(n, d) for n, d, _ in rows]


async def test_absent_every_school_day_from_a_monday(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    # 学生1 (A1) absent every school day from Monday 7 September until 20 October.
    days = [d for d in SCHOOL_DAYS if d <= date(2026, 10, 20)]
    await absent_days(client, world, ctx, "student_A1", days)
    monday_after = date(2026, 9, 14)
    assert names(await ledger(client, world, "suspected_dropout", date(2026, 9, 11))) == []
    suspected = await ledger(client, world, "suspected_dropout", monday_after)
    assert names(suspected) == [("学生1", "2026-09-14")]
    assert "连续无故缺勤超过 5 个上学日" in suspected[0][2]
    # 辍学 a month later (30 days of 疑似辍学 without return), with no return notice issued.
    assert names(await ledger(client, world, "dropout", date(2026, 10, 13))) == []
    assert names(await ledger(client, world, "dropout", date(2026, 10, 14))) == [
        ("学生1", "2026-10-14")
    ]
    assert names(await ledger(client, world, "suspected_dropout", date(2026, 10, 14))) == []
    # Today (20 October) the same.
    assert names(await ledger(client, world, "dropout")) == [("学生1", "2026-10-14")]


async def test_the_daily_pass_makes_dropout_without_any_roll(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    # Absent Monday 7 to Monday 14 September, then the roll is no longer taken for the child.
    await absent_days(client, world, ctx, "student_A2", SCHOOL_DAYS[:6])
    at(ctx, date(2026, 10, 13))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.status_code == 200, r.text
    assert names(await ledger(client, world, "dropout")) == []
    at(ctx, date(2026, 10, 14))
    r = await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert r.status_code == 200, r.text
    assert names(await ledger(client, world, "dropout")) == [("学生2", "2026-10-14")]
    # Checked again: nothing new is written.
    rows = await count(ctx, DropoutStatusPeriod)
    await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert await count(ctx, DropoutStatusPeriod) == rows == 2


async def test_a_return_notice_on_day_3_gives_the_earlier_date(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    r = await client.put(url, json={"notice_days": 2}, headers=world.auth("county_admin"))
    assert r.status_code == 200, r.text
    await absent_days(client, world, ctx, "student_A1", SCHOOL_DAYS[:3])  # Mon–Wed: red
    case = (
        await client.get(
            f"/api/v1/students/{world.ids['student_A1']}/case", headers=world.auth("principal")
        )
    ).json()
    r = await post(client, world, "principal", f"/api/v1/cases/{case['id']}/return-notice")
    assert r.status_code == 201 and r.json()["deadline"] == "2026-09-11", r.text
    await absent_days(client, world, ctx, "student_A1", SCHOOL_DAYS[3:5])  # Thu, Fri
    at(ctx, date(2026, 9, 12))  # Saturday: the deadline has passed
    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.json()["escalated"] == 1, r.text
    await absent_days(client, world, ctx, "student_A1", SCHOOL_DAYS[5:8])  # the run goes on
    rows = await ledger(client, world, "suspected_dropout")
    assert rows == [("学生1", "2026-09-12", "返校通知书 SA-2026-001 逾期未返校")]
    # Everyone told: the principal, the vice principal and the county admin of the report to
    # the township and of 疑似辍学; the head teacher of 疑似辍学; the case's timeline both.
    for who, topics in (
        ("principal", {"return_notice.reported_to_township", "student.suspected_dropout"}),
        ("vice_principal", {"return_notice.reported_to_township", "student.suspected_dropout"}),
        ("county_admin", {"return_notice.reported_to_township", "student.suspected_dropout"}),
        ("head_teacher", {"student.suspected_dropout"}),
    ):
        got = await inbox(client, world, who)
        assert topics <= set(got), (who, got)
        assert got.count("student.suspected_dropout") == 1
    kinds = [
        e["kind"]
        for e in (
            await client.get(f"/api/v1/cases/{case['id']}", headers=world.auth("principal"))
        ).json()["timeline"]
    ]
    assert "return_notice.escalated" in kinds and kinds.count("student.suspected_dropout") == 1
    at(ctx, date(2026, 10, 12))
    await post(client, world, "principal", "/api/v1/return-notices/check")
    dropout = await ledger(client, world, "dropout")
    assert dropout == [("学生1", "2026-10-12", "返校通知书 SA-2026-001 逾期未返校")]
    for who in ("principal", "county_admin", "head_teacher"):
        assert (await inbox(client, world, who)).count("student.dropout") == 1


async def inbox(client: httpx.AsyncClient, world: World, who: str) -> list[str]:
    r = await client.get("/api/v1/inbox", params={"limit": 200}, headers=world.auth(who))
    assert r.status_code == 200, r.text
    return [n["topic"] for n in r.json()["items"]]


async def test_left_without_a_transfer_is_dropout_a_month_later(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    at(ctx, date(2026, 9, 8))
    sid = world.ids["student_A2"]
    r = await post(client, world, "principal", f"/api/v1/students/{sid}/left-without-transfer")
    assert r.status_code == 200, r.text
    assert await ledger(client, world, "suspected_dropout") == [
        ("学生2", "2026-09-08", "未办理转学手续离校")
    ]
    at(ctx, date(2026, 10, 8))
    await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert names(await ledger(client, world, "dropout")) == [("学生2", "2026-10-08")]
    assert names(await ledger(client, world, "suspected_dropout", date(2026, 10, 7))) == [
        ("学生2", "2026-09-08")
    ]


async def september(client: httpx.AsyncClient, world: World) -> list[Any]:
    """Everything the county sends upward about September, without the time it was made."""
    county = world.ids["county"]
    out: list[Any] = []
    for kind in ("suspected_dropout", "dropout"):
        out.append(await ledger(client, world, kind, date(2026, 9, 30)))
    r = await client.get(
        "/api/v1/reports/rates",
        params={"county_id": county, "as_of": "2026-09-30"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    rates = r.json()
    rates.pop("generated_at"), rates.pop("generated_at_local")
    out.append(rates)
    r = await client.get(
        "/api/v1/reports/county-monthly-review",
        params={"county_id": county, "month": "2026-09"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text
    review = r.json()
    review.pop("generated_at"), review.pop("generated_at_local")
    review["rates"].pop("generated_at"), review["rates"].pop("generated_at_local")
    out.append(review)
    return out


async def test_september_read_on_30_september_and_on_15_november_is_the_same(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    # A1 absent from 7 September: 疑似辍学 on the 14th; A2 leaves without a transfer on the
    # 21st; both become 辍学 in October, A1 comes back in November.
    await absent_days(
        client, world, ctx, "student_A1", [d for d in SCHOOL_DAYS if d <= date(2026, 9, 30)]
    )
    at(ctx, date(2026, 9, 21))
    sid = world.ids["student_A2"]
    await post(client, world, "principal", f"/api/v1/students/{sid}/left-without-transfer")
    at(ctx, date(2026, 9, 30), 18)
    first = await september(client, world)
    assert names(first[0]) == [("学生1", "2026-09-14"), ("学生2", "2026-09-21")]
    assert first[2]["total"]["suspected_dropouts"] == 2

    await absent_days(
        client,
        world,
        ctx,
        "student_A1",
        [d for d in SCHOOL_DAYS if date(2026, 10, 1) <= d <= date(2026, 11, 2)],
    )
    at(ctx, date(2026, 11, 3))
    await roll(client, world, [event(world.ids["student_A1"], "present", day=date(2026, 11, 3))])
    await post(client, world, "county_admin", "/api/v1/return-notices/check")
    at(ctx, date(2026, 11, 15))
    await post(client, world, "county_admin", "/api/v1/return-notices/check")
    assert names(await ledger(client, world, "dropout")) == [("学生2", "2026-10-21")]
    assert names(await ledger(client, world, "dropout", date(2026, 11, 2))) == [
        ("学生1", "2026-10-14"),
        ("学生2", "2026-10-21"),
    ]
    assert await september(client, world) == first


async def test_bad_thresholds_and_dates_are_refused_and_change_nothing(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    at(ctx, date(2026, 9, 15))
    url = f"/api/v1/alert-policies/county/{world.ids['county']}"
    before = (await client.get(url, headers=world.auth("county_admin"))).json()
    assert (before["effective"]["suspected_after"], before["effective"]["suspected_unit"]) == (
        5,
        "school_days",
    )
    for body in (
        {"suspected_after": 0},
        {"suspected_after": 101},  # school days: longer than a term
        {"suspected_after": 150, "suspected_unit": "calendar_days"},
        {"suspected_unit": "weeks"},
        {"dropout_after_days": 0},
    ):
        r = await client.put(url, json=body, headers=world.auth("county_admin"))
        assert r.status_code == 422, (body, r.text)
    assert (await client.get(url, headers=world.auth("county_admin"))).json() == before
    r = await client.put(
        url,
        json={"suspected_after": 7, "suspected_unit": "calendar_days"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200 and r.json()["effective"]["suspected_unit"] == "calendar_days"
    county = world.ids["county"]
    for as_of in ("2026-09-16", "2026-08-31", "2026-13-01"):
        r = await client.get(
            LEDGER,
            params={"county_id": county, "kind": "dropout", "as_of": as_of},
            headers=world.auth("county_admin"),
        )
        assert r.status_code == 422, (as_of, r.text)
        assert [e["loc"] for e in r.json()["errors"]] == [["query", "as_of"]], r.text
    r = await client.get(
        "/api/v1/reports/rates",
        params={"county_id": county, "as_of": (date(2026, 9, 15) + timedelta(days=1)).isoformat()},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 422


async def contact_deadlines(ctx: AppContext) -> int:
    return len([d for d in await rows(ctx, Deadline) if d.kind == "contact"])


async def test_obligations_fit_the_status(
    world: World, client: httpx.AsyncClient, ctx: AppContext
) -> None:
    await with_term(world, client)
    # 学生2 left without a transfer on Monday 7 September, then is marked absent every day:
    # a case opens and alerts are raised, but no daily 1-hour call is owed.
    at(ctx, date(2026, 9, 7), 8)
    sid = world.ids["student_A2"]
    r = await post(client, world, "principal", f"/api/v1/students/{sid}/left-without-transfer")
    assert r.status_code == 200, r.text
    await absent_days(client, world, ctx, "student_A2", SCHOOL_DAYS[:8])
    assert await contact_deadlines(ctx) == 0
    # 学生1, absent from the same Monday: the call is owed on each of the first six days (the
    # sixth makes 疑似辍学), then no more.
    await absent_days(client, world, ctx, "student_A1", SCHOOL_DAYS[:10])
    assert await contact_deadlines(ctx) == 6

    # Instead, a periodic persuasion task every 7 days (the county's default) once the red
    # home visit is done, each one reminded and escalated like every case task.
    red_visits = {t.id for t in await rows(ctx, CaseTask) if t.kind == "home_visit"}
    assert len(red_visits) == 2

    async def periodic() -> list[CaseTask]:
        found = [t for t in await rows(ctx, CaseTask) if t.kind == "home_visit"]
        return [t for t in found if t.id not in red_visits]

    async def complete(tasks: list[CaseTask]) -> None:
        for t in tasks:
            r = await post(
                client,
                world,
                "vice_principal",
                f"/api/v1/tasks/{t.id}/complete",
                {"note": "已家访"},
            )
            assert r.status_code == 200, r.text

    r = await post(client, world, "principal", "/api/v1/return-notices/check")
    assert r.status_code == 200, r.text
    assert await periodic() == []  # the red home visit is still open
    await complete(
        [t for t in await rows(ctx, CaseTask) if t.kind == "home_visit" and t.status == "open"]
    )
    await post(client, world, "principal", "/api/v1/return-notices/check")
    tasks = await periodic()
    assert len(tasks) == 2 and {t.role for t in tasks} == {"vice_principal"}
    assert all(t.note and "定期劝返" in t.note for t in tasks)
    assert all(t.due_at - t.created_at == timedelta(days=7) for t in tasks)
    await post(client, world, "principal", "/api/v1/return-notices/check")
    assert len(await periodic()) == 2
    # Done: the next one is made 7 days after the last.
    await complete(tasks)
    await post(client, world, "principal", "/api/v1/return-notices/check")
    assert len(await periodic()) == 2
    at(ctx, SCHOOL_DAYS[9] + timedelta(days=7))
    await post(client, world, "principal", "/api/v1/return-notices/check")
    assert len(await periodic()) == 4
