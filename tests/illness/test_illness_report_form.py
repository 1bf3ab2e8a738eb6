"""Issue 21 item 4: the printable 传染病疫情报告 — a draft before the report is filed, what was
sent after (who, when, to whom); only those who read the cases may print it (item 6)."""

from __future__ import annotations

import io

import httpx
from docx import Document

from app.context import AppContext
from app.domain.roles import Role
from tests.helpers import MONDAY, move
from tests.illness.common import ALERTS, at, reporter, sick_roll, students
from tests.world import World


def _text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


async def test_the_form_is_a_draft_then_what_was_sent_and_only_health_readers_print_it(
    ctx: AppContext, client: httpx.AsyncClient, world: World
) -> None:
    await reporter(world)
    await world.add_staff("health", Role.county_health, "county")
    a1 = await students(world, "A1", 3, 800)
    await sick_roll(client, world, a1, MONDAY)
    [alert] = (await client.get(ALERTS, headers=world.auth("epidemic_reporter"))).json()
    url = f"{ALERTS}/{alert['id']}/report-form"

    r = await client.get(url, headers=world.auth("epidemic_reporter"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    draft = _text(r.content)
    assert "草稿" in draft and "呼吸道症状" in draft
    assert all(alert_case["student_name"] in draft for alert_case in alert["cases"])
    assert "发热" in draft and "06:30" in draft  # onset in school-local time (08:10 roll)

    # Who may see the alert but not the children's health: refused; outside the school: 404.
    for who, code in (("county_admin", 403), ("subject_teacher", 404), ("principal_B", 404)):
        r = await client.get(url, headers=world.auth(who))
        assert r.status_code == code, (who, r.text)
        assert "发热" not in r.text
    for who in ("principal", "health"):
        assert (await client.get(url, headers=world.auth(who))).status_code == 200, who

    move(ctx, at(MONDAY, "09:00"))
    r = await client.post(
        f"{ALERTS}/{alert['id']}/report",
        json={"note": "已电话报告县疾控"},
        headers=world.auth("epidemic_reporter"),
    )
    assert r.status_code == 201, r.text
    filed = _text((await client.get(url, headers=world.auth("epidemic_reporter"))).content)
    assert "草稿" not in filed
    assert "已电话报告县疾控" in filed and "09:00" in filed  # reported at, local time
    assert r.json()["reported_by"] in filed
