"""Reading an onboarding sheet (the 学籍 export, the staff list): the roster reader's file
checks, encodings and header notes (app.roster.parse), but every header is accounted for: a
column that is neither read nor known to be safely ignored is reported by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.tables import DEFAULT_LIMITS, FileError, ReadLimits, TooManyRows
from app.roster import parse as p


@dataclass(frozen=True)
class Sheet:
    header_row: int
    unknown: list[str]  # headers nobody reads, in file order
    roster: p.Roster


def read_sheet(
    data: bytes,
    filename: str | None,
    *,
    read: frozenset[str],
    required: tuple[str, ...],
    ignored: frozenset[str] = frozenset(),
    aliases: Mapping[str, str] | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Sheet:
    """``read`` columns are returned, ``ignored`` ones are known and skipped, any other header
    is ``unknown``; ``FileError`` for a file that is no such table or lacks a ``required``,
    ``TooLarge`` beyond ``limits``."""
    raw = p.raw_rows(data, filename, limits)
    aliases = aliases or {}

    def name(cell: p.Cell) -> str:
        found = p.header_name(cell)
        return aliases.get(found, found)

    head = raw[: p._HEADER_SEARCH_ROWS]
    start = next((i for i, (_, cells) in enumerate(head) if p.NAME in map(name, cells)), 0)
    header_row, header = raw[start]
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header):
        column = name(cell)
        if not column or column in ignored:
            continue
        if column not in read:
            unknown.append(column)
            continue
        if column in positions:
            raise FileError(f"列“{column}”出现了两次 (column {column} appears twice)")
        positions[column] = index
    missing = [c for c in required if c not in positions]
    if missing:
        raise FileError(f"缺少必填列:{'、'.join(missing)} (missing required columns)")
    rows = [
        p.Row(number, {h: p._at(cells, i) for h, i in positions.items()})
        for number, cells in raw[start + 1 :]
        if not p._blank(cells)
    ]
    if not rows:
        raise FileError("表头下没有数据行 (no rows under the header)")
    if len(rows) > limits.max_rows:
        raise TooManyRows(limits.max_rows)
    return Sheet(header_row, unknown, p.Roster(frozenset(positions), rows))
