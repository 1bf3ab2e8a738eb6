"""Operations (issue 26, item 8): the Prometheus scrape behind its token, /engine/health for
the scraper, request ids in the log lines, and the engine process's lines as JSON with time,
level and logger (and no personal data)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.context import AppContext
from app.core import logs
from app.core.clock import SimClock
from tests.helpers import event
from tests.world import World

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "scrape-token-0123456789-abcdefghijklmnop"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def scrape_token(ctx: AppContext) -> Iterator[None]:
    ctx.settings.metrics_token = SecretStr(TOKEN)
    try:
        yield
    finally:
        ctx.settings.metrics_token = None


def figure(text: str, name: str, **labels: str) -> float:
    """One sample of the exposition text; 0 when absent (a counter never incremented)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        sample, _, got = key.partition("{")
        got_labels = ",".join(sorted(got.rstrip("}").split(","))) if got else ""
        if sample == name and got_labels == want:
            return float(value)
    return 0.0


async def scrape(client: httpx.AsyncClient) -> str:
    r = await client.get("/metrics", headers=SCRAPER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


async def test_metrics_after_a_roll(
    ctx: AppContext, world: World, client: httpx.AsyncClient, scrape_token: None
) -> None:
    before = await scrape(client)
    sid = world.ids["student_A1"]
    batch = [event(sid, "absent", at="08:00"), event(world.ids["student_A2"], "present")]
    r = await client.post("/api/v1/attendance-events", json=batch, headers=world.auth("principal"))
    assert r.json()["accepted"] == 2, r.text
    again = await client.post(
        "/api/v1/attendance-events", json=batch[:1], headers=world.auth("principal")
    )
    assert again.json()["duplicate"] == 1
    assert isinstance(ctx.clock, SimClock)
    ctx.clock.set(ctx.clock() + timedelta(hours=2))  # the parent call (1 hour) is due now
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return figure(after, name, **labels) - figure(before, name, **labels)

    assert delta("kcbx_attendance_events_total", outcome="accepted") == 2
    assert delta("kcbx_attendance_events_total", outcome="duplicate") == 1
    assert delta("kcbx_attendance_batch_seconds_count") == 2
    assert delta("kcbx_attendance_batch_seconds_sum") > 0
    # Read from the database at scrape time: the deployment's state, whoever does the work.
    assert figure(after, "kcbx_deadlines_due") == 1
    assert figure(after, "kcbx_deadline_oldest_overdue_seconds") >= 3600
    assert figure(after, "kcbx_deadlines_failed") == 0
    assert figure(after, "kcbx_outbox_undispatched") >= 1  # the blue alert's notices
    assert "kcbx_outbox_backlog{channel=" in after
    assert "kcbx_job_failing_runs{job=" in after
    assert figure(after, "kcbx_engine_processes_alive") == 0  # no engine in this test
    assert "# TYPE kcbx_deadline_lateness_seconds histogram" in after
    assert "# TYPE kcbx_delivery_attempts_total counter" in after


async def test_the_scrape_needs_its_token(
    ctx: AppContext, world: World, client: httpx.AsyncClient
) -> None:
    off = await client.get("/metrics", headers=SCRAPER)
    assert off.status_code == 404 and "KCBX_METRICS_TOKEN" in off.text  # off by default
    assert (await client.get("/api/v1/engine/health", headers=SCRAPER)).status_code == 401
    ctx.settings.metrics_token = SecretStr(TOKEN)
    try:
        for headers in (
            {},
            {"Authorization": "Bearer " + TOKEN[:-1] + "x"},
            world.auth("county_admin"),  # a person's token is not the scrape token
        ):
            r = await client.get("/metrics", headers=headers)
            assert r.status_code == 401 and "kcbx_" not in r.text, r.text
        health = await client.get("/api/v1/engine/health", headers=SCRAPER)
        assert health.status_code == 200 and health.json()["pending_overdue"] == 0
        assert (await client.get("/api/v1/engine/health")).status_code == 401
        signed_in = await client.get("/api/v1/engine/health", headers=world.auth("principal"))
        assert signed_in.status_code == 200
    finally:
        ctx.settings.metrics_token = None
    with pytest.raises(ValueError, match="32"):
        type(ctx.settings)(metrics_token="short")


async def test_a_requests_log_lines_carry_its_id_and_no_mobile(
    world: World, client: httpx.AsyncClient
) -> None:
    out = io.StringIO()
    handler = logs.Handler(out)
    handler.setFormatter(logs.json_formatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("kcbx.auth")
    logger.addHandler(handler)
    mobile = "13912345678"
    try:
        r = await client.post(
            "/api/v1/auth/token",
            data={"username": mobile, "password": "wrong-one"},
            headers={"X-Request-ID": "req-26.8"},
        )
        forged = await client.get("/healthz", headers={"X-Request-ID": b"bad id\n; with spaces"})
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 401 and r.headers["X-Request-ID"] == "req-26.8"
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])  # a new one
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines, "the failed sign-in is logged"
    for line in lines:
        assert line["level"] == "WARNING" and line["logger"] == "kcbx.auth"
        assert line["request_id"] == "req-26.8" and line["time"]
        assert mobile not in json.dumps(line, ensure_ascii=False)  # masked


def test_plain_lines_name_the_school_and_case() -> None:
    record = logging.LogRecord("kcbx.engine", logging.INFO, __file__, 1, "fired %d", (3,), None)
    with logs.bound(logs.school_id, 7), logs.bound(logs.case_id, 12):
        logs.ContextFilter().filter(record)
    text = logs.PlainFormatter().format(record)
    assert re.fullmatch(r"\S+ \S+ INFO kcbx\.engine fired 3 \[school_id=7 case_id=12\]", text)


async def test_the_engine_process_logs_its_work_as_json(
    ctx: AppContext, world: World, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A deadline due on the real clock: the engine process fires it and says so, one JSON
    object a line with time, level and logger, the case named, no child's name."""
    r = await client.post(
        "/api/v1/attendance-events",
        json=[event(world.ids["student_A1"], "absent", at="08:00")],
        headers=world.auth("principal"),
    )
    assert r.json()["accepted"] == 1, r.text
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCBX_")}
    env.update(
        KCBX_DATABASE_URL=ctx.settings.database_url,
        KCBX_ENVIRONMENT="test",
        KCBX_ENGINE_POLL_SECONDS="0.2",
        KCBX_SEED_DEMO="false",
        KCBX_LOG_FORMAT="json",
    )
    log = tmp_path / "engine.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.jobs", cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            until = time.monotonic() + 90
            while '"fired ' not in log.read_text() and time.monotonic() < until:
                assert proc.returncode is None, log.read_text()
                await asyncio.sleep(0.2)
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 30)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert len(lines) == len(text.splitlines()), text  # every line is one JSON object
    started = next(iter(x for x in lines if x["message"] == "engine running"), None)
    assert started is not None, text
    assert started["level"] == "INFO" and started["logger"] == "kcbx.engine" and started["time"]
    fired = [x for x in lines if re.match(r"fired [1-9]\d*, ", x["message"])]
    assert fired, text
    fired = fired[0]
    assert fired["level"] == "INFO" and fired["logger"] == "kcbx.engine"
    assert "学生" not in text  # the world names its pupils 学生N: no name in any line
    # APScheduler's per-run chatter stays out (its warnings and errors still come through).
    chatter = [x for x in lines if x["logger"].startswith("apscheduler") and x["level"] == "INFO"]
    assert not chatter, text
