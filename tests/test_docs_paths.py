"""Every file the README, the docs and the code's docstrings point a reader to exists, and every
link between the README and docs/*.md lands on a heading: after a move or a split (issue 23
moved the README's design notes to docs/), a stale pointer sends a newcomer nowhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MENTION = re.compile(
    r"\b(?:app|tests|bench|docs|alembic|clients)/[\w/.-]+\.(?:py|md|yaml|json|ts|mjs)\b"
)
# Written by `make client` / .ci/client from the live contract, never committed.
GENERATED = {"clients/typescript/src/kcbx.d.ts"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _sources() -> list[Path]:
    found = _documents()
    for folder in ("app", "tests", "bench", ".ci", "clients"):
        found += sorted((ROOT / folder).rglob("*.py"))
    found += sorted((ROOT / "clients" / "typescript").glob("*.mjs"))
    found += sorted((ROOT / "clients" / "typescript" / "src").glob("*.ts"))
    found = [p for p in found if "node_modules" not in p.parts]
    return [p for p in found if p != Path(__file__).resolve()]  # its own examples are stale


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {anchor(h) for h in HEADING.findall(FENCE.sub("", markdown))}


def broken_links(source: Path, markdown: str) -> list[str]:
    """Links to a local file or heading that do not land: a missing file, or an ``#anchor``
    no heading of the target has."""
    broken = []
    for target in LINK.findall(FENCE.sub("", markdown)):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not ours to check
        path, _, fragment = target.partition("#")
        file = (source.parent / path).resolve()
        if path and not file.exists():
            broken.append(target)
            continue
        text = file.read_text() if path else markdown
        if fragment and (not path or file.suffix == ".md") and fragment not in anchors(text):
            broken.append(target)
    return broken


def test_every_file_pointed_to_exists() -> None:
    missing = sorted(
        f"{source.relative_to(ROOT)}: {mention}"
        for source in _sources()
        for mention in set(MENTION.findall(source.read_text()))
        if not (ROOT / mention).exists() and mention not in GENERATED
    )
    assert missing == []


def test_every_link_in_the_readme_and_docs_lands() -> None:
    found = {str(doc.relative_to(ROOT)): broken_links(doc, doc.read_text()) for doc in _documents()}
    assert {doc: links for doc, links in found.items() if links} == {}


def test_the_readme_stays_a_guide_and_links_every_design_note() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 400
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{doc.name})" in readme, doc.name


def test_the_check_sees_a_stale_pointer() -> None:
    assert MENTION.findall("see app/transfers/service.py, and app/alerts/engine.py.") == [
        "app/transfers/service.py",
        "app/alerts/engine.py",
    ]
    readme = ROOT / "README.md"
    text = "[a](docs/engine.md#drills-演练) [b](docs/engine.md#no-such) [c](docs/gone.md) [d](#x)"
    assert broken_links(readme, text + "\n## X\n") == ["docs/engine.md#no-such", "docs/gone.md"]
