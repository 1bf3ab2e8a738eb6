"""Fixtures of the fault suite (``pytest tests/faults -m faults``; ``make test`` leaves it out).

Every case runs on PostgreSQL in the suite's own throw-away cluster (``cluster.py``), in a
database of its own copied from a migrated template, against the service's real processes
(``procs.py``). Every process started is killed by a finaliser, whatever the outcome. At the end
the fault table (fault → invariants → counts → recovery time) is written to
``build/fault-table.md`` and printed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import insert

from app.context import AppContext
from app.db import migrations
from app.db.models import Student
from app.settings import Settings
from tests.faults.cluster import PgCluster, find_bindir, remove_stale
from tests.faults.invariants import Checks
from tests.faults.procs import LIVE, Api, Engine, Service
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = "kcbx_template"


@dataclass
class FaultRow:
    fault: str
    checks: Checks = field(default_factory=Checks)
    recovery: dict[str, float] = field(default_factory=dict)
    outcome: str = "not run"


_ROWS: list[FaultRow] = []


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin): no cluster to fault"
        )
    remove_stale()
    cluster = PgCluster(bindir)
    _CLUSTERS.append(cluster)
    try:
        cluster.init()
        cluster.start()
        asyncio.run(_create(cluster, TEMPLATE))
        migrations.upgrade(cluster.url(TEMPLATE))
        yield cluster
    finally:
        cluster.destroy()
        _CLUSTERS.remove(cluster)


_CLUSTERS: list[PgCluster] = []


def _end_everything(signum: int, _frame: Any) -> None:
    """``timeout`` (CI's bound) sends SIGTERM: end the processes and the cluster this run
    started — they live in sessions of their own and would outlive it — then die of it."""
    for s in list(LIVE):
        s.cleanup()
    for c in list(_CLUSTERS):
        c.destroy()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def pytest_configure(config: pytest.Config) -> None:
    if "faults" in (config.option.markexpr or "") and "not" not in config.option.markexpr:
        signal.signal(signal.SIGTERM, _end_everything)


async def _admin(cluster: PgCluster) -> asyncpg.Connection:
    return await asyncpg.connect(
        host="127.0.0.1", port=cluster.port, user="postgres", database="postgres"
    )


async def _create(cluster: PgCluster, name: str, template: str | None = None) -> None:
    conn = await _admin(cluster)
    try:
        extra = f" TEMPLATE {template}" if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{extra}')
    finally:
        await conn.close()


@pytest.fixture
async def fault_db(pg_cluster: PgCluster) -> AsyncIterator[str]:
    """A database of this test's own, migrated (a copy of the template); its URL."""
    if not pg_cluster.running():
        pg_cluster.start()  # a case that stopped the server and failed before starting it
    name = f"fault_{uuid.uuid4().hex[:12]}"
    await _create(pg_cluster, name, TEMPLATE)
    yield pg_cluster.url(name)
    if pg_cluster.running():
        conn = await _admin(pg_cluster)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def fault_ctx(fault_db: str) -> AsyncIterator[AppContext]:
    """The test's own connection to its database: to set up the county and to look."""
    ctx = AppContext.from_settings(Settings(environment="test", database_url=fault_db))
    yield ctx
    await ctx.close()


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Processes the test starts are added here; all are killed (process group) at the end."""
    started: list[Service] = []
    yield started
    for s in started:
        s.cleanup()


@pytest.fixture
def fault_row(request: pytest.FixtureRequest) -> FaultRow:
    row = FaultRow(fault=request.node.get_closest_marker("fault").args[0])
    _ROWS.append(row)
    request.node.stash[_ROW_KEY] = row
    return row


_ROW_KEY = pytest.StashKey[FaultRow]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    row = item.stash.get(_ROW_KEY, None)
    if row is None or report.when not in ("setup", "call"):
        return
    if report.failed:
        message = str(call.excinfo.value) if call.excinfo else "failed"
        row.outcome = "FAILED: " + " ".join(message.split())[:240]
    elif report.skipped:
        row.outcome = "skipped"
    elif report.when == "call":
        row.outcome = "passed"


def fault_table() -> str:
    lines = [
        "| fault | invariants checked | counts | recovery time | outcome |",
        "|---|---|---|---|---|",
    ]
    for row in _ROWS:
        inv = "<br>".join(f"{'✓' if ok else '✗'} {name}" for name, ok, _ in row.checks.results)
        counts = ", ".join(f"{k}={v}" for k, v in row.checks.counts.items())
        recovery = ", ".join(f"{k} {v:.1f} s" for k, v in row.recovery.items()) or "—"
        cells = (row.fault, inv or "—", counts or "—", recovery, row.outcome)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    table = fault_table()
    out = ROOT / "build" / "fault-table.md"
    out.parent.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.write_text(f"# Fault table ({stamp})\n\n{table}", encoding="utf-8")
    terminalreporter.write_sep("=", "fault table")
    terminalreporter.write(table)
    terminalreporter.write_line(f"(written to {out.relative_to(ROOT)})")


# --- the county ------------------------------------------------------------------------------


async def county(ctx: AppContext, students: int) -> tuple[World, list[int]]:
    """``tests.world``'s county (schools A and B, one head teacher for class A1, a vice
    principal of A…) and ``students`` more pupils in class A1, written in bulk (the roster is
    not what these cases fault)."""
    world = await build_world(ctx)
    now = datetime.now(UTC)
    where = {
        "county_id": world.ids["county"],
        "school_id": world.ids["school_A"],
        "class_id": world.ids["class_A1"],
    }
    async with ctx.engine.begin() as conn:
        got = await conn.execute(
            insert(Student).returning(Student.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
            [
                {
                    **where,
                    "name": f"学生{i}",
                    "gender": "female" if i % 2 else "male",
                    "birth_date": date(2016, 9, 1),
                    "student_no": f"F{i:09d}",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(students)
            ],
        )
        ids = [sid for (sid,) in got]
    return world, ids


class Stack:
    """Starts the service's processes for one test, each registered for the finaliser."""

    def __init__(self, url: str, logs: Path, started: list[Service]) -> None:
        self.url, self.logs, self.started = url, logs, started

    async def api(self, *, engine_in_process: bool = False, **settings: str) -> Api:
        api = Api(self.url, self.logs / "api.log", engine_in_process=engine_in_process, **settings)
        self.started.append(api)
        api.start()
        await api.wait_ready()
        return api

    async def engine(self, name: str, **settings: str) -> Engine:
        engine = Engine(name, self.url, self.logs / f"{name}.log", **settings)
        self.started.append(engine)
        engine.start()
        await engine.wait_ready()
        return engine

    def logs_text(self) -> str:
        return "\n".join(s.tail(3000) for s in self.started)


@pytest.fixture
def stack(fault_db: str, tmp_path: Path, services: list[Service]) -> Stack:
    return Stack(fault_db, tmp_path, services)
