"""Query parameters that are dates accept ``YYYY-MM-DD`` only (app/core/dates.py says why);
one app-wide dependency checks them for every route."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.dates import MESSAGE, is_date, is_iso_text
from app.errors import FieldProblem, Invalid

_DATE_PARAMS: dict[int, tuple[str, ...]] = {}


def _date_params(route: APIRoute) -> tuple[str, ...]:
    known = _DATE_PARAMS.get(id(route))
    if known is None:
        known = tuple(_query_dates(route.dependant))
        _DATE_PARAMS[id(route)] = known
    return known


def _query_dates(dependant: Dependant) -> list[str]:
    names = [p.alias for p in dependant.query_params if is_date(p.field_info.annotation)]
    for sub in dependant.dependencies:
        names.extend(_query_dates(sub))
    return names


async def strict_query_dates(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    problems = [
        FieldProblem(("query", name), MESSAGE, "date_format")
        for name in _date_params(route)
        if name in request.query_params and not is_iso_text(request.query_params[name])
    ]
    if problems:
        raise Invalid(problems)
