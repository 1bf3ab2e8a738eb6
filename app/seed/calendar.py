"""Demo 校历: every demo school gets the 2025–2026 spring term and the 2026–2027 autumn term,
so the demo has school days around today (late November 2026). Running it again adds
nothing: a term already there (same dates) is skipped."""

from __future__ import annotations

from datetime import date

from app.calendar import service as calendar
from app.calendar.repository import terms_of
from app.calendar.schemas import TermIn
from app.context import AppContext
from app.domain.access import Actor, ActorKind

_OPS = Actor(kind=ActorKind.staff, id=0, name="demo seed", superuser=True)

DEMO_TERMS = (
    TermIn(name="2025-2026学年春季学期", start_date=date(2026, 3, 2), end_date=date(2026, 7, 10)),
    TermIn(name="2026-2027学年秋季学期", start_date=date(2026, 9, 1), end_date=date(2027, 1, 22)),
)


async def seed_demo_terms(ctx: AppContext, school_ids: list[int]) -> None:
    for school_id in school_ids:
        async with ctx.uow() as uow:
            present = {(t.start_date, t.end_date) for t in await terms_of(uow.session, school_id)}
        for term in DEMO_TERMS:
            if (term.start_date, term.end_date) in present:
                continue
            async with ctx.uow() as uow:
                await calendar.create_term(uow, _OPS, school_id, term)
