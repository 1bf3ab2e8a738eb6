"""Every file the README, the docs and the code's docstrings point a reader to exists: after
a move or a split, a stale pointer sends a newcomer to a file that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MENTION = re.compile(r"\b(?:app|tests|bench|docs|alembic|clients)/[\w/.-]+\.(?:py|md|yaml|json)\b")


def _sources() -> list[Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in ("app", "tests", "bench", ".ci"):
        found += sorted((ROOT / folder).rglob("*.py"))
    return [p for p in found if p != Path(__file__).resolve()]  # its own examples are stale


def test_every_file_pointed_to_exists() -> None:
    missing = sorted(
        f"{source.relative_to(ROOT)}: {mention}"
        for source in _sources()
        for mention in set(MENTION.findall(source.read_text()))
        if not (ROOT / mention).exists()
    )
    assert missing == []


def test_the_check_sees_a_stale_pointer() -> None:
    assert MENTION.findall("see app/transfers/service.py, and app/alerts/engine.py.") == [
        "app/transfers/service.py",
        "app/alerts/engine.py",
    ]
