"""What people read: every instant in an answer has its school-local twin, and class names
carry the grade (三年级1班)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl

from app.core.xlsx import Sheet, workbook_bytes
from app.main import create_app
from tests.helpers import FRIDAY, MONDAY, TUESDAY, red_case
from tests.world import World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_an_alert_says_when_in_utc_and_in_the_schools_time(
    world: World, client: httpx.AsyncClient
) -> None:
    await red_case(client, world)
    r = await client.get("/api/v1/alerts", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    alerts = r.json()["items"]
    assert alerts
    for a in alerts:
        for name in ("raised_at", "verify_due", "verified_at", "withdrawn_at"):
            utc, here = a[name], a[f"{name}_local"]
            if utc is None:
                assert here is None
                continue
            assert utc.endswith("Z") or utc.endswith("+00:00")
            assert here.endswith("+08:00"), here
            assert _instant(here) == _instant(utc)  # the same instant
            assert _instant(here).utcoffset() == timedelta(hours=8)
    days = {FRIDAY, MONDAY, TUESDAY}
    # The local time names the school day the alert was raised on; UTC may name the day before.
    assert all(_instant(a["raised_at_local"]).date() in days for a in alerts)


# Answers read by operators and machines, not by school staff: UTC only, by decision
# (app/core/local_times.py). Any other answer with an instant must carry its local twin.
OPERATIONS_ANSWERS = frozenset(
    {
        "AccessLogOut",
        "AttemptOut",
        "ChannelHealthOut",
        "ClockMoveOut",
        "ClockOut",
        "DeliveryHealthOut",
        "DeliveryOut",
        "EngineHealthOut",
        "JobStatusOut",
        "NationalYearOut",
        "ProcessOut",
        "WebhookSubscriptionOut",
    }
)


def test_every_instant_of_an_answer_has_its_local_twin_in_the_contract() -> None:
    doc = create_app().openapi()
    schemas = doc["components"]["schemas"]
    twins, missing = 0, []
    for name, schema in schemas.items():
        if not name.endswith("Out") or name in OPERATIONS_ANSWERS:
            continue
        props = schema.get("properties", {})
        for field, spec in props.items():
            formats = [spec.get("format")] + [s.get("format") for s in spec.get("anyOf", [])]
            if "date-time" in formats and not field.endswith("_local"):
                if f"{field}_local" in props:
                    twins += 1
                    assert f"{field}_local" not in schema.get("required", [])
                else:
                    missing.append(f"{name}.{field}")
    assert missing == []
    assert twins >= 40


async def test_class_names_carry_the_grade(world: World, client: httpx.AsyncClient) -> None:
    r = await client.get(
        f"/api/v1/classes/{world.ids['class_A1']}", headers=world.auth("principal")
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["full_name"]) == ("A1", "三年级A1")
    await red_case(client, world)
    r = await client.get(
        "/api/v1/ledgers/absence-tracking",
        params={"school_id": world.ids["school_A"], "start": "2026-11-01", "end": "2026-11-30"},
        headers=world.auth("principal"),
    )
    assert r.status_code == 200, r.text
    assert {row["class_name"] for row in r.json()["rows"]} == {"三年级A1"}


def test_a_spreadsheet_shows_the_schools_wall_clock_time_never_utc() -> None:
    raised = datetime(2026, 12, 6, 19, 3, tzinfo=UTC)  # 12-07 03:03 in Beijing
    sheet = Sheet(name="预警", title="预警", headers=("时间",), rows=[[raised]])
    ws = openpyxl.load_workbook(io.BytesIO(workbook_bytes([sheet]))).active
    assert ws is not None
    assert ws.cell(row=3, column=1).value == datetime(2026, 12, 7, 3, 3)
