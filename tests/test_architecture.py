"""House rules that keep the domain pure."""

from __future__ import annotations

import ast
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "app" / "domain"
FORBIDDEN = {
    "fastapi",
    "sqlmodel",
    "sqlalchemy",
    "httpx",
    "apscheduler",
    "asyncpg",
    "aiosqlite",
    "starlette",
    "app.db",
    "app.api",
    "app.services",
    "app.repositories",
}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def _modules() -> list[Path]:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "the domain package is empty"
    return files


def test_domain_imports_no_framework_or_io() -> None:
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_domain_never_reads_the_wall_clock() -> None:
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr) in CLOCK_CALLS
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_only_the_unit_of_work_commits() -> None:
    app = DOMAIN.parent
    committing = [
        str(p.relative_to(app)) for p in app.rglob("*.py") if "session.commit()" in p.read_text()
    ]
    assert committing == ["db/uow.py"]
