"""Hostile and careless input gets a clear 4xx, never a 500, and changes nothing.

Each case below answered 500 before (issue 12): ids beyond int32, offsets beyond int64,
dates at 0001-01-01 / 9999-12-31, a naive ``?since=``, time-zone-aware or null check times,
NUL bytes (also in the unauthenticated sign-in form), deeply nested JSON, bodies of any size.
"""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from app.context import AppContext
from app.core.tables import ReadLimits
from app.roster import parse
from tests.helpers import event
from tests.roster.test_import import HEADERS, csv_bytes, roster_row
from tests.world import World

BIG = 2**31  # one past INTEGER
HUGE = 2**63  # one past BIGINT


@pytest.fixture
def settings_override(ctx: AppContext) -> Iterator[Any]:
    """Lower a limit for one test (the app reads ctx.settings on every request)."""
    saved = ctx.settings.model_dump()

    def set_(**values: Any) -> None:
        for key, value in values.items():
            setattr(ctx.settings, key, value)

    yield set_
    for key in ("max_body_bytes", "max_upload_bytes", "import_max_rows", "import_max_problems"):
        setattr(ctx.settings, key, saved[key])


async def test_ids_beyond_their_column_are_unknown(world: World, client: httpx.AsyncClient) -> None:
    auth = world.auth("county_admin")
    for url in (
        f"/api/v1/students/{BIG}",
        f"/api/v1/schools/{HUGE}",
        f"/api/v1/cases/{BIG}/plan",
        f"/api/v1/leaves/{BIG}",
        f"/api/v1/students?school_id={BIG}",
        f"/api/v1/alerts?class_id={HUGE * 10}",
        f"/api/v1/students/{-BIG}",
    ):
        r = await client.get(url, headers=auth)
        assert r.status_code == 404, (url, r.text)
    r = await client.post(f"/api/v1/inbox/{HUGE}/read", headers=auth)
    assert r.status_code == 404, r.text
    # In a body, an id no column can hold is a 422 naming the field.
    r = await client.post("/api/v1/classes", json={"grade_id": HUGE, "name": "X1"}, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "grade_id"]


async def test_offsets_and_dates_are_bounded(world: World, client: httpx.AsyncClient) -> None:
    auth = world.auth("county_admin")
    school = world.ids["school_A"]
    r = await client.get(f"/api/v1/students?offset={HUGE}", headers=auth)
    assert r.status_code == 422
    r = await client.get("/api/v1/students?offset=2147483647", headers=auth)
    assert r.status_code == 200 and r.json()["items"] == []
    for day in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"):
        for url in (
            f"/api/v1/reports/three-lists?school_id={school}&start={day}&end={day}",
            f"/api/v1/alerts?from={day}",
            f"/api/v1/reports/weekly-bulletin?school_id={school}&week_start={day}",
            f"/api/v1/attendance/lists?school_id={school}&date={day}",
        ):
            r = await client.get(url, headers=auth)
            assert r.status_code == 422, (url, r.status_code, r.text)
    body = {
        "events": [
            {
                "student_id": world.ids["student_A1"],
                "check": "morning",
                "status": "absent",
                "school_date": "9999-12-31",
                "event_id": "e-9999",
                "observed_at": "9999-12-31T08:00:00+08:00",
            }
        ]
    }
    r = await client.post("/api/v1/attendance-events", json=body, headers=auth)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["rejected"] == 1


async def test_a_naive_since_is_refused(world: World, client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/access-logs?since=2026-11-01T00:00:00", headers=world.auth("county_admin")
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["query", "since"]
    r = await client.get(
        "/api/v1/access-logs?since=2026-11-01T00:00:00%2B08:00",
        headers=world.auth("county_admin"),
    )
    assert r.status_code != 500


# UTC instants out of range, whatever the offset: the first answered 500 on PostgreSQL
# (issue 26: its UTC instant is before year 1, which the driver cannot send).
EXTREME_INSTANTS = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "2000-01-01T05:00:00+08:00",  # 1999-12-31T21:00Z
    "2100-12-31T20:00:00-08:00",  # 2101-01-01T04:00Z
)


@pytest.mark.parametrize("at", EXTREME_INSTANTS)
async def test_timestamps_are_bounded_on_their_utc_instant(
    world: World, client: httpx.AsyncClient, at: str
) -> None:
    sid = world.ids["student_A1"]
    auth = world.auth("head_teacher")
    r = await client.post(
        "/api/v1/attendance-events", json=event(sid, occurred_at=at), headers=auth
    )
    assert r.status_code == 422, r.text
    assert r.json()["result"]["errors"][0]["loc"] == ["occurred_at"]
    r = await client.post(
        "/api/v1/attendance-events", json=[event(sid, occurred_at=at)], headers=auth
    )
    assert r.status_code == 200 and r.json()["results"][0]["code"] == "invalid"
    assert r.json()["results"][0]["errors"][0]["loc"] == ["occurred_at"]
    leave = {
        "student_id": sid,
        "start_date": "2026-11-24",
        "end_date": "2026-11-24",
        "leave_type": "sick",
        "reason": "发烧",
        "onset_at": at,
        "symptoms": ["fever"],
    }
    r = await client.post("/api/v1/leaves", json=leave, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "onset_at"], r.text
    r = await client.get(
        "/api/v1/access-logs", params={"since": at}, headers=world.auth("county_admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "since"], r.text
    history = await client.get(
        f"/api/v1/students/{sid}/attendance-events?start=2026-11-01&end=2026-11-30", headers=auth
    )
    assert history.status_code == 200 and history.json() == []


async def test_timestamps_at_the_bounds_are_accepted(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.get(
        "/api/v1/access-logs",
        params={"since": "2000-01-01T08:00:00+08:00", "until": "2100-12-31T23:59:59Z"},
        headers=world.auth("county_admin"),
    )
    assert r.status_code == 200, r.text


async def test_check_times_are_school_local_and_never_null(
    world: World, client: httpx.AsyncClient
) -> None:
    url = f"/api/v1/schools/{world.ids['school_A']}"
    auth = world.auth("principal")
    for body in (
        {"morning_check": "08:00:00+08:00"},
        {"morning_check": None},
        {"noon_check": None, "dismissal_check": None},
        {"name": None},
    ):
        r = await client.patch(url, json=body, headers=auth)
        assert r.status_code == 422, (body, r.text)
    r = await client.get(url, headers=auth)
    assert r.json()["morning_check"] == "08:00:00"


async def test_control_characters_are_refused_naming_the_field(
    world: World, client: httpx.AsyncClient
) -> None:
    auth = world.auth("principal")
    student = world.ids["student_A1"]
    for bad in ("张\\u0000三", "张\\u0001三", "张\\u0085三", "张\\ud800三", "张\\n三", "\\ufffe"):
        r = await client.patch(
            f"/api/v1/students/{student}",
            content=f'{{"name": "{bad}"}}'.encode(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert r.status_code == 422, (repr(bad), r.text)
        assert r.json()["errors"][0]["loc"] == ["body", "name"], r.text
    # Free text keeps its line breaks, but not a NUL.
    r = await client.post(
        "/api/v1/leaves",
        json={
            "student_id": student,
            "leave_type": "personal",
            "start_date": "2026-11-25",
            "end_date": "2026-11-25",
            "reason": "家中有事\x00",
        },
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "reason"], r.text
    r = await client.get("/api/v1/students?q=%00", headers=auth)
    assert r.status_code == 422, r.text
    r = await client.get(f"/api/v1/students/{student}", headers=auth)
    assert r.json()["name"] == "学生1"


async def test_the_sign_in_form_refuses_nul(client: httpx.AsyncClient, world: World) -> None:
    for form in (
        {"username": "1380000\x000001", "password": "x"},
        {"username": "13800000001", "password": "a\x00b"},
    ):
        r = await client.post("/api/v1/auth/token", data=form)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"][0] == "body"


async def test_deep_json_and_long_urls_are_4xx(world: World, client: httpx.AsyncClient) -> None:
    auth = world.auth("principal")
    deep = "[" * 100_000 + "]" * 100_000
    for url in ("/api/v1/attendance-events", "/api/v1/leaves", "/api/v1/students"):
        r = await client.post(
            url, content=deep, headers={**auth, "Content-Type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (url, r.status_code)
    r = await client.get("/api/v1/students?q=" + "x" * 5000, headers=auth)
    assert r.status_code == 414


async def test_bodies_are_capped_while_they_stream(
    world: World, client: httpx.AsyncClient, settings_override: Any
) -> None:
    auth = world.auth("principal")
    settings_override(max_body_bytes=4096)
    big = b'{"name": "' + b"x" * 10_000 + b'"}'
    r = await client.post(
        "/api/v1/leaves", content=big, headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(100):
            yield b" " * 1024

    r = await client.post(
        "/api/v1/leaves", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text
    r = await client.post(
        "/api/v1/leaves",
        content=b"{}",
        headers={**auth, "Content-Type": "application/json", "Content-Length": "99999999"},
    )
    assert r.status_code == 413


async def test_uploads_are_capped(
    world: World, client: httpx.AsyncClient, settings_override: Any
) -> None:
    settings_override(max_upload_bytes=8192)
    data = csv_bytes([roster_row(i) for i in range(200)], HEADERS, "utf-8")
    assert len(data) > 8192  # under the stream cap (upload + 64 KiB), over the file cap
    r = await client.post(
        "/api/v1/imports/students",
        files={"file": ("花名册.csv", data, "text/csv")},
        data={"school_id": str(world.ids["school_A"])},
        headers=world.auth("principal"),
    )
    assert r.status_code == 413, r.text
    # Past the stream cap the guard cuts the body off before the form is even parsed.
    data = csv_bytes([roster_row(i) for i in range(1000)], HEADERS, "utf-8")
    assert len(data) > 8192 + 64 * 1024
    r = await client.post(
        "/api/v1/imports/students",
        files={"file": ("花名册.csv", data, "text/csv")},
        data={"school_id": str(world.ids["school_A"])},
        headers=world.auth("principal"),
    )
    assert r.status_code == 413 and "请求体" in r.text, r.text


def _wide_xlsx(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    for i in range(rows):
        sheet.append(
            [
                "学生",
                "男",
                "2015-03-07",
                f"G{i}",
                "",
                "3",
                "A1",
                "家长",
                "父亲",
                "13700000000",
                "否",
                "否",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_imports_stop_at_the_row_cap(
    world: World, client: httpx.AsyncClient, settings_override: Any
) -> None:
    settings_override(import_max_rows=100)
    auth = world.auth("principal")
    school = str(world.ids["school_A"])
    for name, data in (
        ("花名册.csv", csv_bytes([roster_row(i) for i in range(101)], HEADERS, "utf-8")),
        ("花名册.xlsx", _wide_xlsx(5000)),
    ):
        started = time.monotonic()
        r = await client.post(
            "/api/v1/imports/students",
            files={"file": (name, data)},
            data={"school_id": school},
            headers=auth,
        )
        assert r.status_code == 413, r.text
        assert "100" in r.text
        assert time.monotonic() - started < 30  # stopped at the cap, not after the whole file
    r = await client.get(f"/api/v1/students?school_id={school}", headers=auth)
    assert r.json()["total"] == 2
    with pytest.raises(parse.TooManyRows):
        parse.read_roster(_wide_xlsx(30), "x.xlsx", ReadLimits(max_rows=29))
    assert len(parse.read_roster(_wide_xlsx(29), "x.xlsx", ReadLimits(max_rows=29)).rows) == 29


async def test_the_error_report_is_capped_and_counts_everything(
    world: World, client: httpx.AsyncClient, settings_override: Any
) -> None:
    settings_override(import_max_problems=10)
    rows = [roster_row(i, 身份证号="110101201503070000") for i in range(30)]
    r = await client.post(
        "/api/v1/imports/students",
        files={"file": ("花名册.csv", csv_bytes(rows, HEADERS, "utf-8"))},
        data={"school_id": str(world.ids["school_A"])},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422, r.text
    report = r.json()["report"]
    assert report["rejected"] == 30
    assert len(report["problems"]) == 10 and report["problem_count"] >= 30
    assert [p["row"] for p in report["problems"]] == sorted(p["row"] for p in report["problems"])
    assert len(r.json()["errors"]) == 10


async def test_urls_longer_than_their_column_are_refused(
    world: World, client: httpx.AsyncClient
) -> None:
    r = await client.put(
        f"/api/v1/schools/{world.ids['school_A']}/channels/dingtalk_robot",
        json={"url": "https://oapi.dingtalk.com/robot/send?access_token=" + "中" * 200},
        headers=world.auth("principal"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]
